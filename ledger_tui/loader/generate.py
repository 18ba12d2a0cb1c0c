"""Deterministic, realistic sample ledgers: a small fintech's customers and house accounts.

Same seed, same entry sets (ids, amounts, times), so a load can be resumed or repeated on
another store and compared. Amounts come from skewed distributions in each currency's
precision; a few house accounts take part in most sets, which makes their partitions hot.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..domain.model import Address, EntrySet, Leg, Side
from ..domain.money import DEFAULT_CURRENCIES
from ..domain.parse import build_entry_set


@dataclass(frozen=True, slots=True)
class Entity:
    """A legal entity with its home currency and its own house accounts."""

    code: str
    currency: str
    customers: int
    weight_pct: int


ENTITIES = (
    Entity("fintech_uk", "GBP", 400, 80),
    Entity("fintech_eu", "EUR", 120, 13),
    Entity("fintech_us", "USD", 60, 7),
)
HOUSE = {
    "funding": ("com.fintech.account", "main"),
    "equity": ("com.fintech.equity", "owners"),
    "settlement": ("com.fintech.settlement", "card_scheme"),
    "payroll": ("com.fintech.settlement", "faster_payments"),
    "fees": ("com.fintech.revenue", "fees"),
    "interest": ("com.fintech.expense", "interest"),
    "utilities": ("com.fintech.utilities", "electric"),
    "suspense": ("com.fintech.suspense", "unallocated"),
}
CUSTOMER = ("com.fintech.customer", "current")
#: Activity at the end of the window relative to its start (a growing fintech; makes the
#: house accounts' recent partitions hot, as a real ledger's are).
GROWTH = 16

# Kinds of entry set and how often each occurs.
_KINDS = (
    ("card_payment", 0.46),
    ("card_payment_with_fee", 0.08),
    ("salary", 0.14),
    ("transfer", 0.16),
    ("monthly_fee", 0.06),
    ("interest", 0.04),
    ("split_bill", 0.03),
    ("utilities", 0.02),
    ("suspense_clear", 0.01),
)
_MERCHANTS = ("Tesco", "Pret A Manger", "TfL", "Amazon", "Deliveroo", "Boots", "Shell", "Spotify")


def _house(entity: Entity, account: str) -> Address:
    namespace, name = HOUSE[account]
    return Address(entity.code, namespace, name, entity.currency, "*")


def _customer(entity: Entity, number: int) -> Address:
    return Address(entity.code, *CUSTOMER, entity.currency, f"cust-{number:06d}")


class SampleGenerator:
    """Yields balanced entry sets; ``seed`` fixes everything including transaction ids."""

    def __init__(self, seed: int, until: datetime, months: int) -> None:
        self._rng = random.Random(seed)
        self._end = until
        self._start = until - timedelta(days=round(months * 30.44))
        self._span_ms = int((self._end - self._start) / timedelta(milliseconds=1))

    def _amount(self, currency: str, median_major: int, spread_pct: int = 90) -> Decimal:
        """A log-normal amount around ``median_major`` units, born as whole minor units."""
        digits = DEFAULT_CURRENCIES.digits(currency)
        scale = 10**digits
        minor = round(self._rng.lognormvariate(0, spread_pct / 100) * median_major * scale)
        return Decimal(max(1, minor)).scaleb(-digits)

    def _moment(self) -> datetime:
        """A time in the window, denser towards the end: the fintech grows 16x over the window."""
        share = math.log1p(self._rng.random() * (GROWTH - 1)) / math.log(GROWTH)
        return self._start + timedelta(milliseconds=min(self._span_ms - 1, int(share * self._span_ms)))

    def _customer_number(self, entity: Entity) -> int:
        # Power-law by rank: the first customers are very active (hot partitions), most are quiet.
        return int(entity.customers * self._rng.random() ** 2.5)

    def _other_customer(self, entity: Entity, number: int) -> int:
        """A uniformly drawn customer other than ``number``."""
        other = self._rng.randrange(entity.customers - 1)
        return other if other < number else other + 1

    def _entity(self) -> Entity:
        return self._rng.choices(ENTITIES, weights=[e.weight_pct for e in ENTITIES])[0]

    def funding(self) -> EntrySet:
        """Opening capital for every entity: the first set of every generated ledger."""
        legs = []
        for entity in ENTITIES:
            amount = Decimal(5_000_000).quantize(DEFAULT_CURRENCIES.quantum(entity.currency))
            legs += [
                Leg(_house(entity, "funding"), Side.DEBIT, amount, "Initial funding", self._start),
                Leg(_house(entity, "equity"), Side.CREDIT, amount, "Owner's equity", self._start),
            ]
        return build_entry_set(self._uuid(), legs)

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def entry_sets(self, count: int) -> Iterator[EntrySet]:
        """``count`` entry sets, the funding set first, deterministic for the seed."""
        yield self.funding()
        for _ in range(count - 1):
            yield self._next()

    def _next(self) -> EntrySet:
        txid = self._uuid()
        kind = self._rng.choices([k for k, _ in _KINDS], weights=[w for _, w in _KINDS])[0]
        entity = self._entity()
        cur = entity.currency
        when = self._moment()
        number = self._customer_number(entity)
        customer = _customer(entity, number)
        legs: list[Leg]
        if kind == "card_payment":
            amount = self._amount(cur, 18)
            merchant = self._rng.choice(_MERCHANTS)
            legs = [
                Leg(customer, Side.DEBIT, amount, f"Card payment {merchant}", when),
                Leg(_house(entity, "settlement"), Side.CREDIT, amount, f"Card settlement {merchant}", when),
            ]
        elif kind == "card_payment_with_fee":
            amount = self._amount(cur, 60)
            fee = max(DEFAULT_CURRENCIES.quantum(cur), (amount * Decimal("0.0275")).quantize(amount))
            legs = [
                Leg(customer, Side.DEBIT, amount + fee, "Card payment abroad", when),
                Leg(_house(entity, "settlement"), Side.CREDIT, amount, "Card settlement abroad", when),
                Leg(_house(entity, "fees"), Side.CREDIT, fee, "Foreign transaction fee", when),
            ]
        elif kind == "salary":
            amount = self._amount(cur, 2400, 35)
            legs = [
                Leg(_house(entity, "payroll"), Side.DEBIT, amount, "Salary inbound", when),
                Leg(customer, Side.CREDIT, amount, "Salary", when),
            ]
        elif kind == "transfer":
            other = _customer(entity, self._other_customer(entity, number))
            amount = self._amount(cur, 75)
            legs = [
                Leg(customer, Side.DEBIT, amount, f"Transfer to {other.account_id}", when),
                Leg(other, Side.CREDIT, amount, f"Transfer from {customer.account_id}", when),
            ]
        elif kind == "monthly_fee":
            amount = Decimal("4.99").quantize(DEFAULT_CURRENCIES.quantum(cur))
            legs = [
                Leg(customer, Side.DEBIT, amount, "Monthly account fee", when),
                Leg(_house(entity, "fees"), Side.CREDIT, amount, "Monthly account fee", when),
            ]
        elif kind == "interest":
            amount = self._amount(cur, 3, 60)
            legs = [
                Leg(_house(entity, "interest"), Side.DEBIT, amount, "Interest paid", when),
                Leg(customer, Side.CREDIT, amount, "Interest", when),
            ]
        elif kind == "split_bill":
            payers = self._rng.randint(2, 5)  # 3 to 6 legs in all
            shares = [self._amount(cur, 22, 40) for _ in range(payers)]
            # Distinct payers, never the collector.
            others = self._rng.sample(range(entity.customers - 1), payers)
            legs = [
                Leg(
                    _customer(entity, n if n < number else n + 1), Side.DEBIT, share, "Split bill share", when
                )
                for n, share in zip(others, shares, strict=True)
            ]
            legs.append(Leg(customer, Side.CREDIT, sum(shares, Decimal(0)), "Split bill collected", when))
        elif kind == "utilities":
            amount = self._amount(cur, 900, 30)
            legs = [
                Leg(_house(entity, "utilities"), Side.DEBIT, amount, "Electricity bill", when),
                Leg(_house(entity, "funding"), Side.CREDIT, amount, "Paid utilities", when),
            ]
        else:  # suspense_clear
            amount = self._amount(cur, 40)
            legs = [
                Leg(_house(entity, "suspense"), Side.DEBIT, amount, "Unallocated receipt cleared", when),
                Leg(customer, Side.CREDIT, amount, "Payment allocated", when),
            ]
        return build_entry_set(txid, legs)
