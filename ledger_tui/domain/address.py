"""Addresses as operators type them (``LE/NS/NAME/CUR/ACCT``) and patterns with ``*`` parts.

One rule for what an address part may hold, used by the entry-set parser, the compose screen,
named balances and every ``--address`` flag, so they can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .errors import ValidationError
from .model import ADDRESS_FIELDS, Address
from .text import address_text_problem, shown

WILDCARD = "*"
MAX_FIELD_LENGTH = 256
_CURRENCY_SHAPE = re.compile(r"[A-Z]{3}")


def validate_address_part(field: str, value: object) -> str | None:
    """Why ``value`` cannot be the address part ``field``, or None if it can."""
    if not isinstance(value, str):
        return "must be a string"
    return _text_part_problem(value)


@lru_cache(maxsize=1 << 16)
def _text_part_problem(value: str) -> str | None:
    """The rule for a text part, remembered: an import checks the same few thousand parts on
    every line, and the Unicode checks are a large share of parsing one."""
    if not value.strip():
        return "must not be empty"
    if len(value) > MAX_FIELD_LENGTH:
        return f"is longer than {MAX_FIELD_LENGTH} characters"
    if "/" in value:
        return "must not contain '/'"
    return address_text_problem(value)


@dataclass(frozen=True, slots=True)
class AddressPattern:
    """An address any part of which may be ``*`` (any value at that level of the account tree).

    ``*`` as the account_id is the common case (every account under four fixed parts, served
    by one rollup); a ``*`` higher up (``fintech_uk/*/current/GBP/*``) is expanded level by
    level against the account tree into such four-part prefixes before anything is read.
    """

    legal_entity: str
    namespace: str
    name: str
    currency: str
    account_id: str

    @property
    def is_wildcard(self) -> bool:
        """Whether this pattern matches every account_id (including a literal ``*``)."""
        return self.account_id == WILDCARD

    @property
    def has_open_prefix(self) -> bool:
        """Whether a part above the account_id is ``*`` (the tree must be walked to expand it)."""
        return WILDCARD in self.prefix()

    def prefix(self) -> tuple[str, str, str, str]:
        """The four parts above the account id (the index level that lists account ids)."""
        return (self.legal_entity, self.namespace, self.name, self.currency)

    def parts(self) -> tuple[str, str, str, str, str]:
        """All five parts, ``*`` where any value matches."""
        return (*self.prefix(), self.account_id)

    def matches(self, address: Address) -> bool:
        """Whether ``address`` is one this pattern selects (``*`` matches any value, even ``*``)."""
        return all(
            part in (WILDCARD, value) for part, value in zip(self.parts(), address.as_tuple(), strict=True)
        )

    def __str__(self) -> str:
        return "/".join((*self.prefix(), self.account_id))


def parse_address(text: str, field_name: str = "address") -> Address:
    """Parse ``LE/NS/NAME/CUR/ACCT`` into an Address, naming the bad part on error."""
    pattern = parse_pattern(text, field_name)
    return Address(*pattern.prefix(), pattern.account_id)


def parse_pattern(text: str, field_name: str = "address", *, any_level: bool = False) -> AddressPattern:
    """Parse ``LE/NS/NAME/CUR/ACCT`` (ACCT may be ``*``; with ``any_level`` any part) into a pattern.

    The origin's API and the CLI take ``*`` as the account only; the console's chart and the
    named-balances file take it at any level (the engine expands it against the account tree).
    """
    parts = text.split("/")
    if len(parts) != len(ADDRESS_FIELDS):
        raise ValidationError.single(
            field_name,
            f"{shown(text)} must have 5 parts LEGAL_ENTITY/NAMESPACE/NAME/CURRENCY/ACCOUNT_ID",
        )
    for name, value in zip(ADDRESS_FIELDS, parts, strict=True):
        reason = validate_address_part(name, value)
        if reason or (value == WILDCARD and (any_level or name == "account_id")):
            pass
        elif value == WILDCARD:
            reason = "only account_id may be the wildcard *"
        elif name == "currency" and not _CURRENCY_SHAPE.fullmatch(value):
            reason = f"{shown(value)} is not a three-letter upper-case currency code"
        if reason:
            raise ValidationError.single(f"{field_name}.{name}", reason)
    return AddressPattern(*parts)
