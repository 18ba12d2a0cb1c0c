"""Query parameters as the ledger's types, each failure a 400 naming the parameter."""

from __future__ import annotations

import uuid
from datetime import datetime

from ..domain.address import AddressPattern, parse_address, parse_pattern
from ..domain.errors import ValidationError
from ..domain.model import Address
from ..domain.timeutil import TimeRange, parse_instant
from .errors import ApiError


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
    """A transaction id from a path."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError.single("transaction_id", f"{text!r} is not a UUID") from None


def limit(text: str | None, default: int, most: int) -> int:
    """A page size between 1 and ``most``."""
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{text!r} is not a whole number", "limit") from None
    if not 1 <= value <= most:
        raise ApiError(400, f"must be between 1 and {most}", "limit")
    return value
