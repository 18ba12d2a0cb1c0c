"""Which entries of an account an operator wants to see: description text, amount range, side.

A filter is a predicate the engine's register read applies while paging, so hidden entries are
never shipped to a face; what the hidden entries moved still reaches the running balance (see
``MatchedEntry``), so a filtered register shows the account's real balance after each row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import FieldProblem, ValidationError
from .model import Entry, Side
from .money import MONEY_CONTEXT, ZERO, AmountError, parse_number


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Entries whose description contains ``text`` (any case), amount in [low, high], on ``side``.

    Every part is optional; an empty filter matches everything.
    """

    text: str = ""
    low: Decimal | None = None
    high: Decimal | None = None
    side: Side | None = None

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValidationError(
                FieldProblem("amount", f"the maximum {self.high} is below the minimum {self.low}")
            )

    def __call__(self, entry: Entry) -> bool:
        """Whether ``entry`` passes the filter."""
        if self.side is not None and entry.side is not self.side:
            return False
        if self.low is not None and entry.amount < self.low:
            return False
        if self.high is not None and entry.amount > self.high:
            return False
        return not self.text or self.text.casefold() in entry.description.casefold()

    @property
    def is_active(self) -> bool:
        """Whether the filter hides anything at all."""
        return bool(self.text) or self.low is not None or self.high is not None or self.side is not None

    def describe(self) -> str:
        """One line for the screen: ``"fee" · 10.00 ≤ amount ≤ 100 · debits``."""
        parts: list[str] = []
        if self.text:
            parts.append(f"description has {self.text!r}")
        if self.low is not None and self.high is not None:
            parts.append(f"{self.low} ≤ amount ≤ {self.high}")
        elif self.low is not None:
            parts.append(f"amount ≥ {self.low}")
        elif self.high is not None:
            parts.append(f"amount ≤ {self.high}")
        if self.side is not None:
            parts.append(f"{self.side.value}s only")
        return " · ".join(parts) if parts else "no filter"

    @classmethod
    def parse(cls, text: str, low: str, high: str, side: str) -> EntryFilter:
        """A filter from typed fields (blank means 'any'); raises ValidationError naming the field."""
        chosen: Side | None = None
        if side.strip():
            try:
                chosen = Side(side.strip().lower())
            except ValueError:
                raise ValidationError(FieldProblem("side", "must be debit, credit or blank")) from None
        return cls(text.strip(), _bound("minimum", low), _bound("maximum", high), chosen)


def _bound(field: str, typed: str) -> Decimal | None:
    text = typed.strip().replace(",", "").replace("_", "")  # "1,000.50" as an operator writes it
    if not text:
        return None
    try:
        return parse_number(text)
    except AmountError as error:
        raise ValidationError(FieldProblem(field, str(error))) from None


@dataclass(frozen=True, slots=True)
class MatchedEntry:
    """An entry that passed a filter, with what the hidden entries just before it moved.

    ``hidden_debits``/``hidden_credits`` sum the entries skipped since the previous match (or
    the start of the read): a register adds them to its running balance but not to the rows'
    own debit and credit totals.
    """

    entry: Entry
    hidden_debits: Decimal = ZERO
    hidden_credits: Decimal = ZERO


@dataclass(slots=True)
class Hidden:
    """Running totals of the entries a filter skipped since the last match."""

    debits: Decimal = ZERO
    credits: Decimal = ZERO

    def skip(self, entry: Entry) -> None:
        """Count one hidden entry."""
        if entry.side is Side.DEBIT:
            self.debits = MONEY_CONTEXT.add(self.debits, entry.amount)
        else:
            self.credits = MONEY_CONTEXT.add(self.credits, entry.amount)

    def attach(self, entry: Entry) -> MatchedEntry:
        """The match ``entry`` carrying the hidden totals before it; the totals start again."""
        matched = MatchedEntry(entry, self.debits, self.credits)
        self.debits, self.credits = ZERO, ZERO
        return matched
