"""Balances over a date range, computed exactly from entries, and named balance definitions.

closing = opening + credits - debits: the origin's sign convention, per currency.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from .errors import NotFound, ValidationError
from .model import ADDRESS_FIELDS, Address, Entry, Side
from .money import MONEY_CONTEXT, ZERO
from .parse import validate_address_part

WILDCARD = "*"


@dataclass(slots=True)
class BalanceRow:
    """Opening, movements and closing of one currency over a range (mutable while folding)."""

    currency: str
    opening: Decimal = ZERO
    debits: Decimal = ZERO
    credits: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        """opening + credits - debits, exactly."""
        return MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(self.opening, self.credits), self.debits)

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
    """Accumulates entries into per-currency balance rows for the range [start, end)."""

    start: datetime | None
    end: datetime | None
    rows: dict[str, BalanceRow] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        """Count ``entry`` as opening (before start) or movement (inside the range)."""
        if self.end is not None and entry.effective_at >= self.end:
            return
        row = self.rows.get(entry.address.currency)
        if row is None:
            zero = entry.amount * 0  # carries the currency's precision into the figures
            row = self.rows[entry.address.currency] = BalanceRow(entry.address.currency, zero, zero, zero)
        if self.start is not None and entry.effective_at < self.start:
            row.opening = MONEY_CONTEXT.add(row.opening, entry.signed_amount)
        elif entry.side is Side.DEBIT:
            row.debits = MONEY_CONTEXT.add(row.debits, entry.amount)
        else:
            row.credits = MONEY_CONTEXT.add(row.credits, entry.amount)

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Fold many entries."""
        for entry in entries:
            self.add(entry)

    def result(self) -> list[BalanceRow]:
        """Rows sorted by currency code."""
        return [self.rows[code] for code in sorted(self.rows)]


@dataclass(frozen=True, slots=True)
class AddressPattern:
    """An address whose account_id may be ``*`` (any account under the other four parts)."""

    legal_entity: str
    namespace: str
    name: str
    currency: str
    account_id: str

    @property
    def is_wildcard(self) -> bool:
        """Whether this pattern matches every account_id (including a literal ``*``)."""
        return self.account_id == WILDCARD

    def prefix(self) -> tuple[str, str, str, str]:
        """The four fixed parts, the index level that lists account ids."""
        return (self.legal_entity, self.namespace, self.name, self.currency)

    def matches(self, address: Address) -> bool:
        """Whether ``address`` is one this pattern selects."""
        return address.as_tuple()[:4] == self.prefix() and (
            self.is_wildcard or address.account_id == self.account_id
        )

    def __str__(self) -> str:
        return "/".join((*self.prefix(), self.account_id))


def parse_address(text: str, field_name: str = "address") -> Address:
    """Parse ``LE/NS/NAME/CUR/ACCT`` into an Address, naming the bad part on error."""
    pattern = parse_pattern(text, field_name)
    return Address(*pattern.prefix(), pattern.account_id)


def parse_pattern(text: str, field_name: str = "address") -> AddressPattern:
    """Parse ``LE/NS/NAME/CUR/ACCT`` (ACCT may be ``*``) into an AddressPattern."""
    parts = text.split("/")
    if len(parts) != len(ADDRESS_FIELDS):
        raise ValidationError.single(
            field_name,
            f"{text!r} must have 5 parts LEGAL_ENTITY/NAMESPACE/NAME/CURRENCY/ACCOUNT_ID",
        )
    for name, value in zip(ADDRESS_FIELDS, parts, strict=True):
        reason = validate_address_part(name, value)
        if reason:
            pass
        elif value == WILDCARD and name != "account_id":
            reason = "only account_id may be the wildcard *"
        elif name == "currency" and not re.fullmatch(r"[A-Z]{3}", value):
            reason = f"{value!r} is not a three-letter upper-case currency code"
        if reason:
            raise ValidationError.single(f"{field_name}.{name}", reason)
    return AddressPattern(*parts)


@dataclass(frozen=True, slots=True)
class NamedBalance:
    """A named set of address patterns whose balances are summed, as in the origin service."""

    name: str
    description: str
    patterns: tuple[AddressPattern, ...]


def load_named_balances(path: Path) -> dict[str, NamedBalance]:
    """Read named balances from TOML: ``[name]`` tables with ``addresses = ["LE/NS/N/CUR/*"]``."""
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise NotFound(f"named balance file {path} does not exist") from None
    except OSError as error:
        raise ValidationError.single(str(path), f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValidationError.single(str(path), "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ValidationError.single(str(path), f"is not valid TOML: {error}") from None
    balances: dict[str, NamedBalance] = {}
    for name, table in data.items():
        if not isinstance(table, dict) or not isinstance(table.get("addresses"), list):
            raise ValidationError.single(f"{name}.addresses", "must be a list of address patterns")
        patterns = tuple(
            parse_pattern(str(item), f"{name}.addresses[{i}]") for i, item in enumerate(table["addresses"])
        )
        if not patterns:
            raise ValidationError.single(f"{name}.addresses", "must not be empty")
        balances[name] = NamedBalance(name, str(table.get("description", "")), patterns)
    return balances
