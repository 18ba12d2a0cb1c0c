"""The ledger's nouns: addresses, legs, entry sets, recorded entries and receipts."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import NamedTuple

from .money import MONEY_CONTEXT, money_sum
from .timeutil import from_epoch_ms, to_epoch_ms

ADDRESS_FIELDS = ("legal_entity", "namespace", "name", "currency", "account_id")
#: Levels of the account tree: legal_entity > namespace > name > currency > account_id.
TREE_DEPTH = len(ADDRESS_FIELDS)


class Side(StrEnum):
    """Which column of the double entry a leg lands in."""

    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """The origin's address 5-tuple that names one account in one currency."""

    legal_entity: str
    namespace: str
    name: str
    currency: str
    account_id: str

    def as_tuple(self) -> tuple[str, str, str, str, str]:
        """The five parts in tree order, for index keys and display."""
        return (self.legal_entity, self.namespace, self.name, self.currency, self.account_id)

    def __str__(self) -> str:
        return "/".join(self.as_tuple())

    def to_json(self) -> dict[str, str]:
        """The origin's JSON shape of an address."""
        return dict(zip(ADDRESS_FIELDS, self.as_tuple(), strict=True))


@dataclass(frozen=True, slots=True)
class Leg:
    """One line of an entry set before it is written; ``effective_at`` None means 'when recorded'."""

    address: Address
    side: Side
    amount: Decimal
    description: str = ""
    effective_at: datetime | None = None

    def canonical(self) -> dict[str, object]:
        """A stable JSON-ready form used for the payload hash and the stored copy of the set."""
        return {
            "address": self.address.to_json(),
            "type": self.side.value,
            "amount": str(self.amount),
            "description": self.description,
            "timestamp": None if self.effective_at is None else to_epoch_ms(self.effective_at),
        }

    @staticmethod
    def from_canonical(data: dict[str, object]) -> Leg:
        """Rebuild a leg from :meth:`canonical` output (trusted: it was validated when written)."""
        address = data["address"]
        assert isinstance(address, dict)
        timestamp = data["timestamp"]
        return Leg(
            address=Address(**{k: str(address[k]) for k in ADDRESS_FIELDS}),
            side=Side(str(data["type"])),
            amount=Decimal(str(data["amount"])),
            description=str(data["description"]),
            effective_at=None if timestamp is None else from_epoch_ms(int(str(timestamp))),
        )


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """Sum of debits and credits of one currency within an entry set."""

    currency: str
    debits: Decimal
    credits: Decimal

    @property
    def difference(self) -> Decimal:
        """Debits minus credits: zero when this currency balances.

        Subtracted in the money context: negating outside it would round totals longer than the
        default 28 digits, and a balanced set of large amounts would be refused as off by 0.01."""
        with localcontext(MONEY_CONTEXT):
            return self.debits - self.credits


def totals_by_currency(legs: list[Leg] | tuple[Leg, ...]) -> list[CurrencyTotals]:
    """Per-currency debit and credit totals, currencies in order of first appearance."""
    debits: dict[str, list[Decimal]] = defaultdict(list)
    credits: dict[str, list[Decimal]] = defaultdict(list)
    order: list[str] = []
    for leg in legs:
        code = leg.address.currency
        if code not in order:
            order.append(code)
        (debits if leg.side is Side.DEBIT else credits)[code].append(leg.amount)
    zeros = {leg.address.currency: leg.amount * 0 for leg in reversed(legs)}  # keeps precision
    return [
        CurrencyTotals(c, money_sum([zeros[c], *debits[c]]), money_sum([zeros[c], *credits[c]]))
        for c in order
    ]


def is_balanced(legs: list[Leg] | tuple[Leg, ...]) -> bool:
    """Whether every currency's debits equal its credits, exactly (80 digits, Inexact trapped).

    The quick test run on every submitted set: one pass of signed sums, where
    ``totals_by_currency`` builds worded totals per currency (a tenth of parsing an import's
    lines). A sum the money context cannot hold exactly counts as unbalanced here, so the
    worded check decides; a property test holds the two to the same verdict.
    """
    nets: dict[str, Decimal] = {}
    try:
        with localcontext(MONEY_CONTEXT):
            for leg in legs:
                code = leg.address.currency
                amount = leg.amount if leg.side is Side.DEBIT else -leg.amount
                nets[code] = nets[code] + amount if code in nets else amount
    except ArithmeticError:
        return False
    return not any(nets.values())


@dataclass(frozen=True, slots=True)
class EntrySet:
    """A validated, balanced group of legs that is recorded all-or-nothing under one id."""

    transaction_id: uuid.UUID
    legs: tuple[Leg, ...]
    #: The legs as canonical JSON (the stored copy) and its SHA-256: same submission, same hash,
    #: whatever the JSON spacing. Computed once here, since every write needs both.
    canonical_text: str = field(init=False, compare=False, repr=False)
    payload_hash: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        text = canonical_text(self.legs)
        object.__setattr__(self, "canonical_text", text)
        object.__setattr__(self, "payload_hash", hashlib.sha256(text.encode()).hexdigest())

    def canonical_legs(self) -> list[dict[str, object]]:
        """Legs in canonical JSON-ready form, in submission order."""
        return [leg.canonical() for leg in self.legs]


def canonical_text(legs: tuple[Leg, ...]) -> str:
    """Legs as canonical JSON: keys sorted, no spaces (the payload hash is taken over this).

    Byte for byte ``json.dumps([leg.canonical() ...], sort_keys=True, separators=(",", ":"))``
    (a unit test holds it to that), written out by hand because it runs for every submitted
    set: the generic encoder took a fifth of parsing an import's lines.
    """
    return (
        "["
        + ",".join(
            _LEG_JSON
            % (
                _address_json(leg.address),
                _json_text(str(leg.amount)),
                _json_text(leg.description),
                "null" if leg.effective_at is None else str(to_epoch_ms(leg.effective_at)),
                _json_text(leg.side.value),
            )
            for leg in legs
        )
        + "]"
    )


#: JSON string literal of a text, exactly as json.dumps writes it (ASCII, escaped).
_json_text: Callable[[str], str] = json.encoder.encode_basestring_ascii
_LEG_JSON = '{"address":%s,"amount":%s,"description":%s,"timestamp":%s,"type":%s}'
_ADDRESS_JSON_FORM = '{"account_id":%s,"currency":%s,"legal_entity":%s,"name":%s,"namespace":%s}'


@functools.lru_cache(maxsize=65_536)
def _address_json(address: Address) -> str:
    """An address's canonical JSON (keys sorted), remembered: addresses repeat across sets."""
    parts = (address.account_id, address.currency, address.legal_entity, address.name, address.namespace)
    return _ADDRESS_JSON_FORM % tuple(map(_json_text, parts))


@dataclass(frozen=True, slots=True)
class Entry:
    """One immutable ledger row: a leg as recorded, with its unique (transaction, leg) identity."""

    address: Address
    side: Side
    amount: Decimal
    description: str
    effective_at: datetime
    transaction_id: uuid.UUID
    leg_index: int
    recorded_at: datetime

    @property
    def entry_id(self) -> str:
        """A unique, stable id of this row: no two entries can share it."""
        return f"{self.transaction_id}/{self.leg_index}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict: amounts as strings so no consumer parses them as float."""
        return {
            "entry_id": self.entry_id,
            "address": self.address.to_json(),
            "type": self.side.value,
            "amount": str(self.amount),
            "description": self.description,
            "timestamp": to_epoch_ms(self.effective_at),
            "effective_at": self.effective_at.isoformat(timespec="milliseconds"),
            "transaction_id": str(self.transaction_id),
        }


class Movement(NamedTuple):
    """The least of an entry a fold needs, read without building an Entry (cheap at volume)."""

    effective_ms: int
    recorded_ms: int
    side: Side
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RecordedTransaction:
    """An entry set as stored: legs with resolved times, payload hash and recorded time."""

    transaction_id: uuid.UUID
    legs: tuple[Leg, ...]
    payload_hash: str
    recorded_at: datetime
    #: ``canonical_text`` of the legs when known (saves encoding them again for the claim).
    legs_text: str = field(default="", compare=False, repr=False)

    @classmethod
    def of(cls, entry_set: EntrySet, recorded_at: datetime) -> RecordedTransaction:
        """An entry set as recorded at ``recorded_at``."""
        legs, text = entry_set.legs, entry_set.canonical_text
        return cls(entry_set.transaction_id, legs, entry_set.payload_hash, recorded_at, text)

    def entries(self) -> list[Entry]:
        """The ledger rows this transaction consists of, one per leg."""
        return [
            Entry(
                address=leg.address,
                side=leg.side,
                amount=leg.amount,
                description=leg.description,
                effective_at=leg.effective_at or self.recorded_at,
                transaction_id=self.transaction_id,
                leg_index=index,
                recorded_at=self.recorded_at,
            )
            for index, leg in enumerate(self.legs)
        ]

    def legs_json(self) -> str:
        """The stored copy of the legs, canonical JSON (older rows without sorted keys read the same)."""
        return self.legs_text or canonical_text(self.legs)

    @staticmethod
    def legs_from_json(text: str) -> tuple[Leg, ...]:
        """Parse :meth:`legs_json` output back into legs."""
        return tuple(Leg.from_canonical(item) for item in json.loads(text))


class PostStatus(StrEnum):
    """Outcome of posting: a new record, or a retry of one already stored."""

    RECORDED = "recorded"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a post returns: enough to prove where every leg went and to detect retries."""

    transaction: RecordedTransaction
    status: PostStatus
    entries: list[Entry] = field(default_factory=list)

    @property
    def transaction_id(self) -> uuid.UUID:
        """The id the set was recorded under."""
        return self.transaction.transaction_id

    @property
    def recorded_at(self) -> datetime:
        """When the ledger first recorded the set (a duplicate reports the original time)."""
        return self.transaction.recorded_at

    def to_json(self) -> dict[str, object]:
        """The CLI's JSON receipt."""
        return {
            "transaction_id": str(self.transaction_id),
            "status": self.status.value,
            "recorded_at": self.recorded_at.isoformat(timespec="milliseconds"),
            "entries": [entry.to_json() for entry in self.entries],
        }
