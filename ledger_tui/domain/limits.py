"""Account limits: bounds on a balance, which accounts they cover, and the check a write must pass.

Why in the domain: every writer (console, CLI, server, importer) and every store must refuse the
same sets for the same reasons, so the rule is one pure function over the bounded accounts' heads
(balance and pending totals). How the stores make the check race-free: docs/limits.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .address import WILDCARD, AddressPattern, parse_pattern
from .errors import LedgerError, ValidationError
from .model import Address, Leg, Side
from .money import MAX_INTEGER_DIGITS, MAX_NUMBER_TEXT, MONEY_CONTEXT, ZERO, Currencies, quantize
from .text import shown

#: Longest "who changed it" text kept with a limit change.
MAX_ACTOR = 200
#: A bound as written: ASCII digits, an optional sign and decimal places (no exponent).
_BOUND = re.compile(r"^-?[0-9]+(\.[0-9]+)?\Z")


@dataclass(frozen=True, slots=True)
class Limit:
    """Bounds on the balance (credits - debits) of every account a pattern selects; None: unbounded."""

    pattern: AddressPattern
    minimum: Decimal | None
    maximum: Decimal | None

    def describe(self) -> str:
        """``min -500.00 max 10000.00`` as shown to a person."""
        bounds = (("min", self.minimum), ("max", self.maximum))
        return " ".join(f"{name} {value}" for name, value in bounds if value is not None)


@dataclass(frozen=True, slots=True)
class LimitChange:
    """One entry of the limit history: a limit set (or, with both bounds None, cleared)."""

    limit: Limit
    changed_by: str
    changed_at: datetime
    sequence: int = 0

    @property
    def cleared(self) -> bool:
        """Whether this change removed the pattern's limit."""
        return self.limit.minimum is None and self.limit.maximum is None


@dataclass(frozen=True, slots=True)
class Head:
    """What a bounded account holds now: posted balance and open pending totals (all exact)."""

    balance: Decimal = ZERO
    pending_debits: Decimal = ZERO
    pending_credits: Decimal = ZERO

    def moved(self, debits: Decimal, credits: Decimal) -> Head:
        """The head after posting ``debits`` and ``credits``."""
        return Head(
            MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(self.balance, credits), debits),
            self.pending_debits,
            self.pending_credits,
        )

    def held(self, debits: Decimal, credits: Decimal) -> Head:
        """The head after holding ``debits`` and ``credits`` (pending, the balance unchanged)."""
        return Head(
            self.balance,
            MONEY_CONTEXT.add(self.pending_debits, debits),
            MONEY_CONTEXT.add(self.pending_credits, credits),
        )

    @property
    def available(self) -> Decimal:
        """What can be spent: the balance less pending debits (a pending credit adds nothing)."""
        return MONEY_CONTEXT.subtract(self.balance, self.pending_debits)


class LimitExceeded(LedgerError):
    """A set refused whole because a leg would take a bounded account past its bound."""

    def __init__(
        self, account: Address, available: Decimal, bound: str, limit: Decimal, asked: Decimal
    ) -> None:
        self.account, self.available, self.bound, self.limit, self.asked = (
            account, available, bound, limit, asked
        )  # fmt: skip
        direction = "below its minimum" if bound == "min" else "above its maximum"
        side = "debit" if bound == "min" else "credit"
        held = "available" if bound == "min" else "balance with pending credits"
        super().__init__(
            f"limit exceeded: account {account} would go {direction} {limit}: "
            f"{held} {available}, net {side} asked {asked}"
        )

    def to_json(self) -> dict[str, object]:
        """The fields of the HTTP 409 answer (amounts as strings, exact)."""
        return {
            "error": "limit_exceeded",
            "message": str(self),
            "account": self.account.to_json(),
            "available": str(self.available),
            "bound": self.bound,
            "limit": str(self.limit),
            "amount": str(self.asked),
        }


def parse_limit_pattern(text: str) -> AddressPattern:
    """A limit's pattern: ``*`` at any level except the currency (a bound is an amount of one)."""
    pattern = parse_pattern(text, "pattern", any_level=True)
    if pattern.currency == WILDCARD:
        raise ValidationError.single(
            "pattern.currency", "must be a currency code: a bound is an amount in it"
        )
    return pattern


def parse_bound(text: object, field: str, currency: str, currencies: Currencies) -> Decimal:
    """A bound as typed or sent (``-500.00``, ``0``, ``10000``) in the currency's precision."""
    value = str(text) if isinstance(text, int | Decimal) and not isinstance(text, bool) else text
    if not isinstance(value, str):
        raise ValidationError.single(field, "must be a decimal number (text or integer)")
    if len(value) > MAX_NUMBER_TEXT or not _BOUND.match(value.strip()):
        raise ValidationError.single(field, f"{shown(value)} is not a plain decimal number like -500.00")
    amount = Decimal(value.strip())
    if amount and amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValidationError.single(field, f"has more than {MAX_INTEGER_DIGITS} integer digits")
    try:
        return MONEY_CONTEXT.plus(quantize(amount, currencies.quantum(currency)))  # -0 is 0
    except ArithmeticError:
        digits = currencies.digits(currency)
        raise ValidationError.single(
            field, f"has more than {digits} decimal places, the precision of {currency}"
        ) from None


def make_limit(pattern: AddressPattern, minimum: Decimal | None, maximum: Decimal | None) -> Limit:
    """A limit, refusing one with no bound or a minimum above its maximum."""
    if minimum is None and maximum is None:
        raise ValidationError.single("min", "give --min, --max or both (to remove a limit, clear it)")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValidationError.single("min", f"{minimum} is above the maximum {maximum}")
    return Limit(pattern, minimum, maximum)


def specificity(pattern: AddressPattern) -> tuple[int, ...]:
    """How closely a pattern names an account: literal parts count from the account up."""
    return tuple(int(part != WILDCARD) for part in reversed(pattern.parts()))


class Limits:
    """The limits in force, and the one that covers an account: the most specific that matches."""

    def __init__(self, limits: Iterable[Limit] = ()) -> None:
        self._limits = sorted(limits, key=lambda limit: specificity(limit.pattern), reverse=True)
        self._covering: dict[Address, Limit | None] = {}

    def __bool__(self) -> bool:
        return bool(self._limits)

    def __iter__(self) -> Iterator[Limit]:
        return iter(self._limits)

    def covering(self, address: Address) -> Limit | None:
        """The limit on ``address`` (an exact account's beats its product's), or None."""
        if address not in self._covering:
            self._covering[address] = next(
                (lim for lim in self._limits if lim.pattern.matches(address)), None
            )
        return self._covering[address]

    def bounded(self, legs: Sequence[Leg]) -> dict[Address, Limit]:
        """The bounded accounts among ``legs`` and their limits."""
        found: dict[Address, Limit] = {}
        for leg in legs:
            limit = self.covering(leg.address)
            if limit is not None:
                found[leg.address] = limit
        return found


def current_limits(history: Iterable[LimitChange]) -> Limits:
    """The limits in force after a history (oldest first): the latest change of each pattern."""
    latest: dict[AddressPattern, LimitChange] = {}
    for change in history:
        latest[change.limit.pattern] = change
    return Limits(change.limit for change in latest.values() if not change.cleared)


def net_movement(legs: Sequence[Leg], account: Address) -> tuple[Decimal, Decimal]:
    """(debits, credits) a set moves on ``account``."""
    debits = credits = ZERO
    for leg in legs:
        if leg.address == account:
            if leg.side is Side.DEBIT:
                debits = MONEY_CONTEXT.add(debits, leg.amount)
            else:
                credits = MONEY_CONTEXT.add(credits, leg.amount)
    return debits, credits


def check_head(
    account: Address, limit: Limit, head: Head, debits: Decimal, credits: Decimal, *, hold: bool = False
) -> Head:
    """``head`` after ``account`` moves by ``debits`` and ``credits`` (posted, or with ``hold``
    held); raises LimitExceeded if it would end below the minimum (counting pending debits) or
    above the maximum (counting pending credits). A move back towards an unmet bound passes."""
    moved = head.held(debits, credits) if hold else head.moved(debits, credits)
    net = MONEY_CONTEXT.subtract(credits, debits)
    if limit.minimum is not None and net < 0 and moved.available < limit.minimum:
        raise LimitExceeded(account, head.available, "min", limit.minimum, MONEY_CONTEXT.minus(net))
    highest = MONEY_CONTEXT.add(moved.balance, moved.pending_credits)
    if limit.maximum is not None and net > 0 and highest > limit.maximum:
        raise LimitExceeded(
            account, MONEY_CONTEXT.add(head.balance, head.pending_credits), "max", limit.maximum, net
        )
    return moved


def check_limits(
    legs: Sequence[Leg], limits: Limits, heads: Mapping[Address, Head], *, hold: bool = False
) -> dict[Address, Head]:
    """The bounded accounts' heads after ``legs`` are posted (or, with ``hold``, held); raises
    LimitExceeded as ``check_head`` does for the first account that would break its bound."""
    after: dict[Address, Head] = {}
    for account, limit in limits.bounded(legs).items():
        head = heads.get(account, Head())
        after[account] = check_head(account, limit, head, *net_movement(legs, account), hold=hold)
    return after
