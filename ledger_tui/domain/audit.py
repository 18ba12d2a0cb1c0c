"""The audit fold behind ``verify``: every set balances, its rows exist, and the books close.

Pure bookkeeping over what the engine streams in (declared transactions and stored entries),
so the rules of a clean ledger are stated once and tested without a store.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .balance import BalanceRow
from .errors import ValidationError
from .model import Address, Entry, RecordedTransaction, Side
from .parse import build_entry_set

#: What must match between a declared leg and its stored row.
RowKey = tuple[int, Address, Side, Decimal, datetime]


def row_key(entry: Entry) -> RowKey:
    """The fields of a stored row that must equal its declared leg."""
    return (entry.leg_index, entry.address, entry.side, entry.amount, entry.effective_at)


@dataclass(slots=True)
class VerifyReport:
    """Outcome of a whole-ledger audit; ``ok`` only when no discrepancy was found."""

    transactions: int = 0
    entries: int = 0
    accounts: int = 0
    totals: dict[str, BalanceRow] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every transaction and every currency balances."""
        return not self.problems


class Audit:
    """Collects declared transactions and stored entries, then reports every discrepancy."""

    def __init__(self) -> None:
        self._declared: dict[uuid.UUID, RecordedTransaction] = {}
        self._seen: dict[uuid.UUID, list[RowKey]] = defaultdict(list)
        self._totals: dict[str, BalanceRow] = {}
        self._entries = 0

    def declare(self, transaction: RecordedTransaction) -> None:
        """A transaction the ledger claims to hold."""
        self._declared[transaction.transaction_id] = transaction

    def see(self, entry: Entry) -> None:
        """A row found in an account partition."""
        self._entries += 1
        self._seen[entry.transaction_id].append(row_key(entry))
        currency = entry.address.currency
        row = self._totals.get(currency)
        if row is None:
            row = self._totals[currency] = BalanceRow.empty(currency, entry.amount)
        row.move(entry.side, entry.amount)

    def report(self, accounts: int) -> VerifyReport:
        """Every problem found: missing or differing rows, unbalanced sets, orphans, open books."""
        report = VerifyReport(len(self._declared), self._entries, accounts)
        seen = dict(self._seen)
        for txid, transaction in self._declared.items():
            rows = sorted(seen.pop(txid, []), key=lambda key: key[0])
            expected = [row_key(entry) for entry in transaction.entries()]
            if rows != expected:
                report.problems.append(
                    f"transaction {txid}: {len(rows)} of {len(expected)} rows found or rows differ"
                )
            try:
                build_entry_set(txid, list(transaction.legs))
            except ValidationError as error:
                report.problems.append(f"transaction {txid}: {error}")
        report.problems.extend(f"entries of unknown transaction {txid}" for txid in seen)
        for currency in sorted(self._totals):
            row = report.totals[currency] = self._totals[currency]
            if row.debits != row.credits:
                report.problems.append(
                    f"{currency}: total debits {row.debits} != total credits {row.credits}"
                )
        return report
