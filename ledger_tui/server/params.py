"""Query parameters as the ledger's types, each failure a 400 naming the parameter."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from ..domain.address import AddressPattern, parse_address, parse_pattern
from ..domain.errors import ValidationError
from ..domain.model import Address
from ..domain.parse import parse_transaction_id
from ..domain.text import shown
from ..domain.timeutil import TimeRange, parse_instant
from .errors import ApiError

_DIGITS = re.compile(r"[0-9]{1,9}")


def instant(name: str, text: str | None) -> datetime | None:
    """An RFC 3339 / ISO 8601 / epoch-ms parameter (UTC unless it says otherwise)."""
    if text is None or text == "":
        return None
    try:
        return parse_instant(text)
    except ValueError as error:
        raise ApiError(400, str(error), name) from None


def time_range(start: str | None, end: str | None) -> TimeRange:
    """``start``/``end`` as a half-open range [start, end)."""
    first, last = instant("start", start), instant("end", end)
    try:
        return TimeRange(first, last)
    except ValueError as error:
        raise ApiError(400, str(error), "end") from None


def address(text: str | None, name: str = "address") -> Address:
    """One exact address ``LE/NS/NAME/CUR/ACCT``."""
    if not text:
        raise ApiError(400, "is required (LEGAL_ENTITY/NAMESPACE/NAME/CURRENCY/ACCOUNT_ID)", name)
    return parse_address(text, name)


def pattern(text: str, name: str = "address") -> AddressPattern:
    """An address whose account_id may be ``*``."""
    return parse_pattern(text, name)


def transaction_id(text: str) -> uuid.UUID:
    """A transaction id from a path: a UUID as 8-4-4-4-12 hex digits, the body's rule (no braces,
    no ``urn:uuid:``, no bare 32 digits: one spelling per id, as the document says)."""
    try:
        return parse_transaction_id(text)
    except ValueError as error:
        raise ValidationError.single("transaction_id", str(error)) from None


def limit(text: str | None, default: int, most: int) -> int:
    """A page size between 1 and ``most``."""
    if text is None or text == "":
        return default
    if not _DIGITS.fullmatch(text):  # int() would take " 5", "+5", "5_0" and non-ASCII digits
        raise ApiError(400, f"{shown(text)} is not a whole number", "limit")
    value = int(text)
    if not 1 <= value <= most:
        raise ApiError(400, f"must be between 1 and {most}", "limit")
    return value
