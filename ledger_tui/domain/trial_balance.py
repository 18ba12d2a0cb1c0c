"""The trial balance: opening, debits, credits and closing of every account or tree node, per
currency, for one range, with the totals that prove the books balance.

The engine folds one row per node (an account, or a four-part rollup); grouping to a shallower
level and the totals are plain sums here, so every figure is exact Decimal and the sign rule
(closing = opening + credits - debits) stays the one in ``balance.py``. What holds keep pending
is added per account beside the posted figures, never into them (docs/holds.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .balance import BalanceRow
from .export import ExportTable
from .holds import Pending
from .model import TREE_DEPTH, Address
from .money import MONEY_CONTEXT, ZERO
from .timeutil import TimeRange

#: The levels of the account tree, by depth (1: legal entity ... 5: account).
LEVEL_NAMES = ("legal entity", "namespace", "name", "currency", "account")
NOTHING_HELD = Pending()
EXPORT_COLUMNS = (
    "account", "currency", "opening", "debits", "credits", "closing", "entries",
    "pending_debits", "pending_credits", "available",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrialLine:
    """One line of the trial balance: a tree node (or, with an empty path, a total) in one currency."""

    path: tuple[str, ...]
    currency: str
    opening: Decimal
    debits: Decimal
    credits: Decimal
    count: int
    pending_debits: Decimal = ZERO
    pending_credits: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        """opening + credits - debits, exactly."""
        return BalanceRow(self.currency, self.opening, self.debits, self.credits).closing

    @property
    def available(self) -> Decimal:
        """What can be spent: the closing balance less what holds keep pending as debits."""
        return MONEY_CONTEXT.subtract(self.closing, self.pending_debits)

    @property
    def label(self) -> str:
        """The node as typed (``LE/NS/...``); empty for a total."""
        return "/".join(self.path)

    @property
    def address(self) -> Address | None:
        """The account this line is, when it is one."""
        return Address(*self.path) if len(self.path) == TREE_DEPTH else None


def _line(path: tuple[str, ...], row: BalanceRow) -> TrialLine:
    return TrialLine(path, row.currency, row.opening, row.debits, row.credits, row.count)


def _plus(line: TrialLine, row: BalanceRow, held: Pending = NOTHING_HELD) -> TrialLine:
    add = MONEY_CONTEXT.add
    return TrialLine(
        line.path,
        line.currency,
        add(line.opening, row.opening),
        add(line.debits, row.debits),
        add(line.credits, row.credits),
        line.count + row.count,
        add(line.pending_debits, held.debits),
        add(line.pending_credits, held.credits),
    )


def _held(line: TrialLine) -> Pending:
    return Pending(line.pending_debits, line.pending_credits)


class TrialBalance:
    """Rows of one range keyed by node path (all of the same depth: 4 rollups, or 5 accounts)."""

    def __init__(
        self,
        time_range: TimeRange,
        rows: Mapping[tuple[str, ...], BalanceRow],
        depth: int,
        pending: Mapping[Address, Pending] | None = None,
    ) -> None:
        if any(len(path) != depth for path in rows):
            raise ValueError(f"every node of a trial balance at depth {depth} has {depth} parts")
        self.time_range = time_range
        self.depth = depth
        self._rows = dict(rows)
        self._pending = {a: p for a, p in (pending or {}).items() if p.debits or p.credits}

    @property
    def held(self) -> bool:
        """Whether any account has something pending (the pending columns are worth showing)."""
        return bool(self._pending)

    def lines(self, depth: int) -> list[TrialLine]:
        """One line per node at ``depth`` (1 to this balance's depth) and currency, in tree order."""
        if not 1 <= depth <= self.depth:
            raise ValueError(f"depth must be 1 to {self.depth}")
        grouped: dict[tuple[tuple[str, ...], str], TrialLine] = {}
        for path, row in self._rows.items():
            key = (path[:depth], row.currency)
            found = grouped.get(key)
            grouped[key] = _line(key[0], row) if found is None else _plus(found, row)
        for address, held in self._pending.items():  # an account with holds only has a line too
            key = (address.as_tuple()[:depth], address.currency)
            found = grouped.get(key) or _line(key[0], BalanceRow(address.currency, ZERO, ZERO, ZERO))
            grouped[key] = _plus(found, BalanceRow(address.currency, ZERO, ZERO, ZERO), held)
        return [grouped[key] for key in sorted(grouped)]

    def totals(self) -> list[TrialLine]:
        """One total per currency (a balanced ledger: debits = credits, opening = closing = 0,
        and pending debits = pending credits, every hold being balanced)."""
        return _by_currency(self.lines(1)) if self._rows or self._pending else []

    def unbalanced(self) -> list[str]:
        """Currencies whose debits and credits (or pending debits and credits) differ (empty for a
        sound ledger)."""
        return [
            total.currency
            for total in self.totals()
            if total.debits != total.credits or total.pending_debits != total.pending_credits
        ]

    def export(self, depth: int) -> ExportTable:
        """The lines at ``depth`` and the totals (account ``TOTAL``), amounts as exact text."""
        shown = [*self.lines(depth), *self.totals()]
        return ExportTable.of(
            EXPORT_COLUMNS,
            [
                (
                    line.label or "TOTAL",
                    line.currency,
                    line.opening,
                    line.debits,
                    line.credits,
                    line.closing,
                    line.count,
                    line.pending_debits,
                    line.pending_credits,
                    line.available,
                )
                for line in shown
            ],
        )


def _by_currency(lines: list[TrialLine]) -> list[TrialLine]:
    totals: dict[str, TrialLine] = {}
    for line in lines:
        row = BalanceRow(line.currency, line.opening, line.debits, line.credits, line.count)
        found = totals.get(line.currency) or _line((), BalanceRow(line.currency, ZERO, ZERO, ZERO))
        totals[line.currency] = _plus(found, row, _held(line))
    return [totals[currency] for currency in sorted(totals)]
