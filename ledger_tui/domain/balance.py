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
from typing import Protocol

from .blocks import DayBlock
from .model import Entry, Movement, Side
from .money import MONEY_CONTEXT, ZERO
from .timeutil import TimeRange, to_epoch_ms


def signed(side: Side, amount: Decimal) -> Decimal:
    """The sign rule: credits add to a balance, debits subtract from it."""
    return amount if side is Side.CREDIT else MONEY_CONTEXT.minus(amount)  # exact: 80 digits, not 28


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

    def move_totals(self, debits: Decimal, credits: Decimal, count: int) -> None:
        """Count a whole day's movements inside the range (from a balance block)."""
        self.debits = MONEY_CONTEXT.add(self.debits, debits)
        self.credits = MONEY_CONTEXT.add(self.credits, credits)
        self.count += count

    def carry_totals(self, debits: Decimal, credits: Decimal) -> None:
        """Count a whole day from before the range into the opening balance."""
        self.opening = MONEY_CONTEXT.add(self.opening, MONEY_CONTEXT.subtract(credits, debits))

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


class Fold(Protocol):
    """What the engine feeds a balance read: whole sealed days, and single movements."""

    def add_day(self, currency: str, begins: datetime, totals: DayBlock) -> None:
        """A whole day (wholly before the start, or wholly inside the range)."""

    def add_movement(self, currency: str, movement: Movement) -> None:
        """One entry, read live."""


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else to_epoch_ms(moment)


@dataclass(slots=True)
class BalanceFold:
    """Folds movements into per-currency rows for the range [start, end)."""

    start: datetime | None
    end: datetime | None
    rows: dict[str, BalanceRow] = field(default_factory=dict)
    _start_ms: int | None = field(init=False, repr=False, default=None)
    _end_ms: int | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._start_ms, self._end_ms = _ms(self.start), _ms(self.end)

    def add_movement(self, currency: str, movement: Movement) -> None:
        """Count one live-read movement as opening or movement."""
        effective = movement.effective_ms
        if self._end_ms is not None and effective >= self._end_ms:
            return
        row = self.rows.get(currency)
        if row is None:
            row = self.rows[currency] = BalanceRow.empty(currency, movement.amount)
        if self._start_ms is not None and effective < self._start_ms:
            row.carry(movement.side, movement.amount)
        else:
            row.move(movement.side, movement.amount)

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

    def add_day(self, currency: str, begins: datetime, totals: DayBlock) -> None:
        """Fold a whole day's block; the day lies wholly before the start or inside the range."""
        if self.end is not None and begins >= self.end:
            return
        row = self.rows.get(currency)
        if row is None:
            row = self.rows[currency] = BalanceRow.empty(currency, totals.debits)
        if self.start is not None and begins < self.start:
            row.carry_totals(totals.debits, totals.credits)
        else:
            row.move_totals(totals.debits, totals.credits, totals.entries)

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
        self._starts_ms = [to_epoch_ms(start) for start in self._starts]
        self._end_ms = _ms(self._end)
        self._moves: dict[tuple[int, str], BalanceRow] = {}

    def add_movement(self, currency: str, movement: Movement) -> None:
        """Count one live-read movement in its period (or the opening)."""
        effective = movement.effective_ms
        if not self._spans or (self._end_ms is not None and effective >= self._end_ms):
            return
        if effective < self._starts_ms[0]:
            self._before.add_movement(currency, movement)
            return
        index = bisect.bisect_right(self._starts_ms, effective) - 1
        row = self._moves.get((index, currency))
        if row is None:
            row = self._moves[(index, currency)] = BalanceRow.empty(currency, movement.amount)
        row.move(movement.side, movement.amount)

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

    def add_day(self, currency: str, begins: datetime, totals: DayBlock) -> None:
        """Fold a whole day's block into the period it lies in (or the opening)."""
        if not self._spans or (self._end is not None and begins >= self._end):
            return
        if begins < self._starts[0]:
            self._before.add_day(currency, begins, totals)
            return
        index = bisect.bisect_right(self._starts, begins) - 1
        row = self._moves.get((index, currency))
        if row is None:
            row = self._moves[(index, currency)] = BalanceRow.empty(currency, totals.debits)
        row.move_totals(totals.debits, totals.credits, totals.entries)

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
