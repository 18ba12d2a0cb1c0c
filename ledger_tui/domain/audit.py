"""The audit behind ``verify``, as streaming folds with bounded memory.

Declared legs (from the transactions table) and stored rows (from the account partitions) are
compared by an additive multiset fingerprint per txid bucket: a clean ledger is proven in one
pass holding 2 x 256 integers. Only buckets whose fingerprints differ are read again, keeping
row keys, to name each discrepancy. Block checks prove the fast balance path exact.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from .balance import BalanceRow
from .blocks import DayBlock, DayTotals, NodeView, SealPolicy, day_of, day_start
from .errors import ValidationError
from .model import Entry, RecordedTransaction
from .parse import build_entry_set
from .timeutil import to_epoch_ms

BUCKETS = 256
#: Problems listed in full; beyond this only their number is reported (the ledger may be huge).
MAX_PROBLEMS = 200
RowKey = tuple[str, int, str, str, str, int]


def row_key(
    transaction_id: uuid.UUID, leg: int, address: str, side: str, amount: str, effective_ms: int
) -> RowKey:
    """What must match between a declared leg and its stored row (amounts compared as text)."""
    return (str(transaction_id), leg, address, side, amount, effective_ms)


def entry_key(entry: Entry) -> RowKey:
    """The row key of a stored entry."""
    return row_key(
        entry.transaction_id,
        entry.leg_index,
        str(entry.address),
        entry.side.value,
        str(entry.amount),
        to_epoch_ms(entry.effective_at),
    )


def bucket_of_txid(transaction_id: uuid.UUID) -> int:
    """Which fingerprint bucket a transaction's rows fall in."""
    return transaction_id.bytes[0] % BUCKETS


def _digest(key: RowKey) -> int:
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=16).digest(), "big")


@dataclass(slots=True)
class Fingerprint:
    """An additive multiset hash per txid bucket, and a row count."""

    sums: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    rows: int = 0

    def add(self, transaction_id: uuid.UUID, key: RowKey) -> None:
        """Count one row."""
        bucket = bucket_of_txid(transaction_id)
        self.sums[bucket] = (self.sums[bucket] + _digest(key)) % (1 << 128)
        self.rows += 1

    def differing(self, other: Fingerprint) -> set[int]:
        """Buckets whose multisets differ."""
        return {b for b in range(BUCKETS) if self.sums[b] != other.sums[b]}


@dataclass(slots=True)
class VerifyReport:
    """Outcome of a whole-ledger audit; ``ok`` only when no discrepancy was found."""

    transactions: int = 0
    entries: int = 0
    accounts: int = 0
    blocks: int = 0
    totals: dict[str, BalanceRow] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        """True when every transaction, every currency and every block checks out."""
        return not self.problems

    def problem(self, text: str) -> None:
        """Record a discrepancy (only the first MAX_PROBLEMS are kept in full)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1

    def count_entry(self, entry: Entry) -> None:
        """Add one stored row to the per-currency books."""
        self.entries += 1
        currency = entry.address.currency
        row = self.totals.get(currency)
        if row is None:
            row = self.totals[currency] = BalanceRow.empty(currency, entry.amount)
        row.move(entry.side, entry.amount)

    def close_books(self) -> None:
        """Every currency's debits must equal its credits."""
        for currency in sorted(self.totals):
            row = self.totals[currency]
            if row.debits != row.credits:
                self.problem(f"{currency}: total debits {row.debits} != total credits {row.credits}")


def declared_keys(transaction: RecordedTransaction) -> list[RowKey]:
    """The row keys a recorded transaction declares."""
    return [entry_key(entry) for entry in transaction.entries()]


def unbalanced(transaction: RecordedTransaction) -> str | None:
    """Why a declared transaction does not balance, or None."""
    try:  # the size bound is for new posts (one atomic write); a stored set is judged on balance
        build_entry_set(transaction.transaction_id, list(transaction.legs), text_limit=sys.maxsize)
    except ValidationError as error:
        return str(error)
    return None


def name_discrepancies(
    declared: dict[str, list[RowKey]],
    stored: dict[str, list[RowKey]],
    report: VerifyReport,
    unfinished: frozenset[str] = frozenset(),
) -> None:
    """Turn the row keys of the differing buckets into one problem per transaction.

    A set whose write is still logged as unfinished is "claimed, not yet materialised": an
    interrupted write that ``repair`` completes, told apart from rows that are wrong.
    """
    for txid in sorted(set(declared) | set(stored)):
        want, have = sorted(declared.get(txid, [])), sorted(stored.get(txid, []))
        if txid not in declared:
            report.problem(f"entries of unknown transaction {txid}")
        elif want != have:
            found = sum(1 for key in have if key in want)
            if txid in unfinished and all(key in want for key in have):
                report.problem(
                    f"transaction {txid}: claimed, not yet materialised ({found} of {len(want)} rows; "
                    "run: ledger-tui repair)"
                )
            else:
                report.problem(f"transaction {txid}: {found} of {len(want)} rows found or rows differ")


class NodeCheck:
    """Recomputes one node's sealed days from its entries and compares with its blocks and marks."""

    def __init__(self, node: str, view: NodeView, policy: SealPolicy) -> None:
        self.node = node
        self._view = view
        self._policy = policy
        self._days: dict[int, DayTotals] = defaultdict(DayTotals)
        self._unmarked: dict[int, datetime] = {}

    def see(self, entry: Entry) -> None:
        """Fold one entry of the node into the totals its day's block should hold."""
        day = day_of(entry.effective_at)
        view = self._view
        if self._policy.is_late(entry.effective_at, entry.recorded_at):
            mark = view.marks.get(day)
            if mark is None or mark < entry.recorded_at:
                self._unmarked.setdefault(day, entry.recorded_at)
        if day >= view.state.sealed_through:
            return
        block = view.blocks.get(day)
        limit = block.cutoff if block is not None else self._policy.late_after(day)
        if entry.recorded_at < limit:
            self._days[day].add(entry.side, entry.amount)

    def finish(self, report: VerifyReport) -> None:
        """Report every block that differs from its entries and every late entry without a mark."""
        for day, recorded_at in sorted(self._unmarked.items()):
            when = recorded_at.isoformat()
            report.problem(f"node {self.node} {_date(day)}: late entry recorded {when} has no late mark")
        for day in sorted(
            {*self._days, *(d for d in self._view.blocks if d < self._view.state.sealed_through)}
        ):
            if self._view.is_stale(day):
                continue  # read live until re-sealed (a late or completed-late entry marked it)
            computed, block = self._days.get(day, DayTotals()), self._view.blocks.get(day)
            report.blocks += block is not None
            if not _same(computed, block):
                stored = "no block" if block is None else f"{block.debits}/{block.credits}/{block.entries}"
                given = f"{computed.debits}/{computed.credits}/{computed.entries}"
                report.problem(
                    f"block {self.node} {_date(day)}: stored {stored}, entries give {given} "
                    "(run: ledger-tui seal --rebuild)"
                )


def _same(computed: DayTotals, block: DayBlock | None) -> bool:
    if block is None:
        return computed.entries == 0
    return (computed.debits, computed.credits, computed.entries) == (
        block.debits,
        block.credits,
        block.entries,
    )


def _date(day: int) -> str:
    return day_start(day).date().isoformat()
