"""The ledger's one fold: opening, debits, credits and closing, per currency, exactly.

closing = opening + credits - debits (the origin's sign convention). Balances, chart series,
verify's totals and the browser's running balance all fold through ``BalanceRow``, so the
sign rule is written once, here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from .model import Entry, Side
from .money import MONEY_CONTEXT, ZERO
from .timeutil import TimeRange


def signed(side: Side, amount: Decimal) -> Decimal:
    """The sign rule: credits add to a balance, debits subtract from it."""
    return amount if side is Side.CREDIT else -amount


def zero_like(amount: Decimal) -> Decimal:
    """Zero with ``amount``'s exponent, so an empty column still shows the currency's digits."""
    return MONEY_CONTEXT.multiply(amount, 0)


@dataclass(slots=True)
class BalanceRow:
    """Opening, movements and closing of one currency (mutable while folding)."""

    currency: str
    opening: Decimal = ZERO
    debits: Decimal = ZERO
    credits: Decimal = ZERO
    count: int = 0

    @classmethod
    def empty(cls, currency: str, like: Decimal) -> BalanceRow:
        """A row of zeros in the precision of ``like`` (an amount of that currency)."""
        zero = zero_like(like)
        return cls(currency, zero, zero, zero)

    def move(self, side: Side, amount: Decimal) -> None:
        """Count one movement inside the range."""
        if side is Side.DEBIT:
            self.debits = MONEY_CONTEXT.add(self.debits, amount)
        else:
            self.credits = MONEY_CONTEXT.add(self.credits, amount)
        self.count += 1

    def carry(self, side: Side, amount: Decimal) -> None:
        """Count one movement from before the range into the opening balance."""
        self.opening = MONEY_CONTEXT.add(self.opening, signed(side, amount))

    @property
    def closing(self) -> Decimal:
        """opening + credits - debits, exactly."""
        return MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(self.opening, self.credits), self.debits)

    def following(self) -> BalanceRow:
        """A new row that opens at this row's closing (the next period or page)."""
        zero = zero_like(self.closing)
        return replace(self, opening=self.closing, debits=zero, credits=zero, count=0)

    def to_json(self) -> dict[str, str]:
        """Strings, not floats, so the figures survive any JSON consumer."""
        return {
            "currency": self.currency,
            "opening": str(self.opening),
            "debits": str(self.debits),
            "credits": str(self.credits),
            "closing": str(self.closing),
        }


@dataclass(slots=True)
class BalanceFold:
    """Folds movements into per-currency rows for the range [start, end)."""

    start: datetime | None
    end: datetime | None
    rows: dict[str, BalanceRow] = field(default_factory=dict)

    def add(self, currency: str, side: Side, amount: Decimal, effective_at: datetime) -> None:
        """Count one movement as opening (before start) or movement (inside the range)."""
        if self.end is not None and effective_at >= self.end:
            return
        row = self.rows.get(currency)
        if row is None:
            row = self.rows[currency] = BalanceRow.empty(currency, amount)
        if self.start is not None and effective_at < self.start:
            row.carry(side, amount)
        else:
            row.move(side, amount)

    def add_entry(self, entry: Entry) -> None:
        """Fold one recorded entry."""
        self.add(entry.address.currency, entry.side, entry.amount, entry.effective_at)

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Fold many entries."""
        for entry in entries:
            self.add_entry(entry)

    def result(self) -> list[BalanceRow]:
        """Rows sorted by currency code."""
        return [self.rows[code] for code in sorted(self.rows)]


@dataclass(frozen=True, slots=True)
class PeriodBalance:
    """One point of a balance series: movements in the period and the closing balance."""

    period: TimeRange
    currency: str
    debits: Decimal
    credits: Decimal
    closing: Decimal


class SeriesFold:
    """Folds movements into consecutive periods; each period opens at the previous closing."""

    def __init__(self, spans: list[TimeRange]) -> None:
        self._spans = spans
        self._starts = [span.start for span in spans if span.start is not None]
        if len(self._starts) != len(spans):
            raise ValueError("a series needs bounded periods")
        self._before = BalanceFold(None, self._starts[0] if spans else None)
        self._end = spans[-1].end if spans else None
        self._moves: dict[tuple[int, str], BalanceRow] = {}

    def add(self, currency: str, side: Side, amount: Decimal, effective_at: datetime) -> None:
        """Count one movement in the period it falls in (or in the opening, before the first)."""
        if not self._spans or (self._end is not None and effective_at >= self._end):
            return
        if effective_at < self._starts[0]:
            self._before.add(currency, side, amount, effective_at)
            return
        index = bisect.bisect_right(self._starts, effective_at) - 1
        row = self._moves.get((index, currency))
        if row is None:
            row = self._moves[(index, currency)] = BalanceRow.empty(currency, amount)
        row.move(side, amount)

    def add_entry(self, entry: Entry) -> None:
        """Fold one recorded entry."""
        self.add(entry.address.currency, entry.side, entry.amount, entry.effective_at)

    def result(self) -> list[PeriodBalance]:
        """Every period for every currency seen (before or inside the range), currency by currency."""
        opening = {row.currency: row for row in self._before.result()}
        first_moves: dict[str, BalanceRow] = {}
        for (_, currency), row in sorted(self._moves.items()):
            first_moves.setdefault(currency, row)
        series: list[PeriodBalance] = []
        for currency in sorted(set(opening) | set(first_moves)):
            seed = opening.get(currency) or first_moves[currency]
            running = BalanceRow.empty(currency, seed.debits)
            running.opening = opening[currency].closing if currency in opening else running.opening
            for index, span in enumerate(self._spans):
                moved = self._moves.get((index, currency))
                row = running.following() if index else replace(running)
                if moved is not None:
                    row.debits, row.credits = moved.debits, moved.credits
                series.append(PeriodBalance(span, currency, row.debits, row.credits, row.closing))
                running = row
        return series
