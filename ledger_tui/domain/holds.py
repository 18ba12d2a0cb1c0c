"""Holds: entry sets posted as pending with an expiry, and the one outcome each may get.

Why a hold is a record and its outcome another: the ledger stays append-only, a second capture or
void finds the first outcome instead of making a second, and what was held at any past instant
is a question of which records existed then (docs/holds.md).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from .balance import BalanceRow
from .errors import LedgerError, ValidationError
from .model import Address, Leg, RecordedTransaction, Side
from .money import MONEY_CONTEXT, ZERO

#: The longest a hold may wait for its outcome (card authorisations last days, not years).
MAX_HOLD = timedelta(days=366)
_DURATION = re.compile(r"^([0-9]{1,7})(s|m|h|d)\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class HoldOutcome(StrEnum):
    """What became of a hold (at most one of these, ever)."""

    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


class HoldState(StrEnum):
    """A hold as read at an instant: still pending, or its outcome."""

    PENDING = "pending"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Hold:
    """A pending entry set, its expiry and (once it has one) its outcome."""

    transaction: RecordedTransaction
    expires_at: datetime
    outcome: HoldOutcome | None = None
    outcome_at: datetime | None = None

    @property
    def hold_id(self) -> uuid.UUID:
        """The hold's id: the id its captured set is recorded under."""
        return self.transaction.transaction_id

    def state_at(self, instant: datetime) -> HoldState | None:
        """The hold as it stood at ``instant`` (None before it was placed). Expiry is exact
        whether or not a sweep has recorded it yet."""
        if instant < self.transaction.recorded_at:
            return None
        if self.outcome is not None and self.outcome_at is not None and self.outcome_at <= instant:
            return HoldState(self.outcome.value)
        if instant >= self.expires_at:
            return HoldState.EXPIRED
        return HoldState.PENDING

    def to_json(self, now: datetime) -> dict[str, object]:
        """The hold as the CLI and the HTTP API show it (its state as of ``now``)."""
        state = self.state_at(now) or HoldState.PENDING
        return {
            "transaction_id": str(self.hold_id),
            "state": state.value,
            "recorded_at": self.transaction.recorded_at.isoformat(timespec="milliseconds"),
            "expires_at": self.expires_at.isoformat(timespec="milliseconds"),
            "outcome_at": None
            if self.outcome_at is None
            else self.outcome_at.isoformat(timespec="milliseconds"),
            "entries": [entry.to_json() for entry in self.transaction.entries()],
        }

    def pending_at(self, instant: datetime) -> bool:
        """Whether the hold counts at ``instant`` (placed, not expired, no outcome yet)."""
        return self.state_at(instant) is HoldState.PENDING


class HoldRefused(LedgerError):
    """A capture or void that cannot be: the hold has another outcome, or has expired."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Pending debits and credits of one account (or a set of them) in one currency."""

    debits: Decimal = ZERO
    credits: Decimal = ZERO


def pending_by_account(holds: Iterable[Hold], instant: datetime) -> dict[Address, Pending]:
    """Pending debits and credits per account of the holds pending at ``instant``."""
    debits: dict[Address, Decimal] = defaultdict(lambda: ZERO)
    credits: dict[Address, Decimal] = defaultdict(lambda: ZERO)
    for hold in holds:
        if not hold.pending_at(instant):
            continue
        for leg in hold.transaction.legs:
            column = debits if leg.side is Side.DEBIT else credits
            column[leg.address] = MONEY_CONTEXT.add(column[leg.address], leg.amount)
    accounts = set(debits) | set(credits)
    return {a: Pending(debits.get(a, ZERO), credits.get(a, ZERO)) for a in accounts}


def parse_duration(text: str, field: str = "expires_in") -> timedelta:
    """``90s``, ``15m``, ``12h`` or ``7d``: more than nothing, at most MAX_HOLD."""
    found = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise ValidationError.single(field, "must be a whole number with s, m, h or d (e.g. 90s, 15m, 7d)")
    duration = timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])
    return check_duration(duration, field)


def check_duration(duration: timedelta, field: str) -> timedelta:
    """A hold's life: more than nothing, at most MAX_HOLD."""
    if duration <= timedelta(0):
        raise ValidationError.single(field, "must be in the future")
    if duration > MAX_HOLD:
        raise ValidationError.single(field, f"must be at most {MAX_HOLD.days} days")
    return duration


def _totals(legs: Sequence[Leg]) -> dict[tuple[Address, Side], Decimal]:
    totals: dict[tuple[Address, Side], Decimal] = defaultdict(lambda: ZERO)
    for leg in legs:
        totals[(leg.address, leg.side)] = MONEY_CONTEXT.add(totals[(leg.address, leg.side)], leg.amount)
    return totals


def check_capture(held: Sequence[Leg], captured: Sequence[Leg]) -> None:
    """A partial capture moves money only where the hold did, each amount at most what was held
    (per account and side); the set itself is balanced already (it was parsed as one)."""
    limits = _totals(held)
    for (address, side), amount in _totals(captured).items():
        if (address, side) not in limits:
            raise ValidationError.single(
                "entries", f"{side.value} on {address}: the hold holds no {side.value} on that account"
            )
        if amount > limits[(address, side)]:
            raise ValidationError.single(
                "entries",
                f"{side.value} of {amount} on {address} is more than the {limits[(address, side)]} held",
            )


def pending_by_currency(found: Iterable[tuple[Address, Pending]]) -> dict[str, Pending]:
    """Pending totals of many accounts, per currency."""
    totals: dict[str, Pending] = {}
    for address, pending in found:
        was = totals.get(address.currency, Pending())
        totals[address.currency] = Pending(
            MONEY_CONTEXT.add(was.debits, pending.debits), MONEY_CONTEXT.add(was.credits, pending.credits)
        )
    return totals


def with_held_currencies(rows: list[BalanceRow], held: Mapping[str, Pending]) -> list[BalanceRow]:
    """Balance rows plus a zero row for each currency only held so far (so what is pending shows)."""
    shown = {row.currency for row in rows}
    extra = [BalanceRow.empty(c, p.debits + p.credits) for c, p in sorted(held.items()) if c not in shown]
    return rows + extra


def held_json(row: BalanceRow, held: Mapping[str, Pending]) -> dict[str, str]:
    """A balance row's pending columns and what is available (none when nothing is held)."""
    if not held:
        return {}
    pending = held.get(row.currency, Pending())
    zero = MONEY_CONTEXT.multiply(row.closing, 0)
    debits, credits = MONEY_CONTEXT.add(zero, pending.debits), MONEY_CONTEXT.add(zero, pending.credits)
    return {
        "pending_debits": str(debits),
        "pending_credits": str(credits),
        "available": str(MONEY_CONTEXT.subtract(row.closing, debits)),
    }


def hold_problems(
    every: Sequence[Hold], open_now: Sequence[Hold], pending: Mapping[Address, Pending], now: datetime
) -> list[str]:
    """What ``verify`` finds wrong with the holds: a hold listed open that has an outcome (or one
    without an outcome missing from the open ones), and pending totals that differ from a fold of
    the holds pending ``now``."""
    problems: list[str] = []
    unsettled = {hold.hold_id for hold in every if hold.outcome is None}
    listed = {hold.hold_id for hold in open_now}
    problems += [
        f"hold {h}: has an outcome but its legs still count as open" for h in sorted(listed - unsettled)
    ]
    problems += [f"hold {h}: has no outcome but its legs are not open" for h in sorted(unsettled - listed)]
    expected = pending_by_account(every, now)
    for account in sorted(set(expected) | set(pending)):
        want, have = expected.get(account, Pending()), pending.get(account, Pending())
        if (want.debits, want.credits) != (have.debits, have.credits):
            problems.append(
                f"pending on {account}: {have.debits} dr / {have.credits} cr, "
                f"the open holds add up to {want.debits} dr / {want.credits} cr"
            )
    return problems


def time_left(hold: Hold, now: datetime) -> str:
    """``2d 4h``, ``14m 5s``, ``42s``: the time until the hold lapses."""
    seconds = max(0, int((hold.expires_at - now).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"
