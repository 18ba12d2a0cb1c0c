"""The one leg validator: every rule a leg must pass, used by the parser and the compose screen.

Problems name the field relative to the leg (``address.currency``, ``amount``, ``type``,
``description``, ``timestamp``); the parser prefixes ``entries[i].``, the console maps them
onto its inputs. One function, so a draft shown as "Balanced" is one the ledger accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from .address import validate_address_part
from .errors import FieldProblem
from .model import ADDRESS_FIELDS, Address, Leg, Side
from .money import AmountError, Currencies, CurrencyError, NumberOutOfRange, parse_amount, parse_number
from .text import utf8_problem
from .timeutil import LATEST_ENTRY_MS, from_epoch_ms, parse_instant, to_epoch_ms, truncate_to_ms

MAX_DESCRIPTION_LENGTH = 1024
REQUIRED = "is required"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


#: What an entry's time must be: inside every read path's range (no bucket after 9999-11, so
#: the month after any bucket still exists).
ENTRY_TIME_RANGE = "between 1970-01-01T00:00:00Z and 9999-11-30T23:59:59.999Z"


def parse_effective_time(value: object) -> datetime:
    """Epoch milliseconds (the origin's ``timestamp``) or an ISO 8601 string, as UTC."""
    if isinstance(value, bool):
        raise ValueError("must be epoch milliseconds or an ISO 8601 string, not a boolean")
    if isinstance(value, NumberOutOfRange):
        raise ValueError(f"must be {ENTRY_TIME_RANGE}")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError("must be a whole number of epoch milliseconds")
        if not 0 <= number <= LATEST_ENTRY_MS:
            raise ValueError(f"must be {ENTRY_TIME_RANGE}")
        return from_epoch_ms(int(number))
    if isinstance(value, str):
        moment = truncate_to_ms(parse_instant(value))
        if not 0 <= to_epoch_ms(moment) <= LATEST_ENTRY_MS:
            raise ValueError(f"must be {ENTRY_TIME_RANGE}")
        return moment
    raise ValueError("must be epoch milliseconds or an ISO 8601 string")


def description_problem(value: object) -> str | None:
    """Why ``value`` cannot be a leg's description, or None if it can."""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > MAX_DESCRIPTION_LENGTH:
        return f"is longer than {MAX_DESCRIPTION_LENGTH} characters"
    if _CONTROL.search(value):
        return "must not contain control characters"
    return None if value.isascii() else utf8_problem(value)  # ASCII holds no surrogate


#: Addresses already found valid, by registry and raw parts: a ledger's legs name few accounts,
#: and checking five parts and building the Address again took a fifth of checking a leg.
_KNOWN_ADDRESSES: dict[tuple[object, ...], Address] = {}
_KNOWN_ADDRESSES_LIMIT = 100_000


def _address_key(raw: object, currencies: Currencies) -> tuple[object, ...] | None:
    """The cache key of a raw address (None when it is no mapping: the full check words that)."""
    if not isinstance(raw, Mapping):
        return None
    get = raw.get  # the five parts in ADDRESS_FIELDS order, spelled out (no generator per leg)
    return (
        currencies,
        get("legal_entity"),
        get("namespace"),
        get("name"),
        get("currency"),
        get("account_id"),
    )


def _known_address(key: tuple[object, ...] | None) -> Address | None:
    """The Address of a raw address found valid before (only text parts are ever stored, and
    text never equals another type, so an unhashable or non-text part simply misses)."""
    if key is None:
        return None
    try:
        return _KNOWN_ADDRESSES.get(key)
    except TypeError:  # an unhashable part (a list or an object)
        return None


def _remember_address(key: tuple[object, ...] | None, address: Address) -> None:
    if key is not None:
        if len(_KNOWN_ADDRESSES) >= _KNOWN_ADDRESSES_LIMIT:
            _KNOWN_ADDRESSES.clear()
        _KNOWN_ADDRESSES[key] = address


def _address(raw: object, currencies: Currencies, problems: list[FieldProblem]) -> dict[str, str]:
    """The valid address parts of ``raw`` (a currency only if the registry knows it)."""
    if not isinstance(raw, Mapping):
        problems.append(FieldProblem("address", "is required and must be an object"))
        return {}
    parts: dict[str, str] = {}
    for name in ADDRESS_FIELDS:
        value = raw.get(name)
        reason = REQUIRED if value is None else validate_address_part(name, value)
        if reason:
            problems.append(FieldProblem(f"address.{name}", reason))
        else:
            parts[name] = str(value)
    if "currency" in parts:
        try:
            currencies.digits(parts["currency"])
        except CurrencyError as error:
            problems.append(FieldProblem("address.currency", str(error)))
            del parts["currency"]
    return parts


def check_leg(raw: Mapping[str, object], currencies: Currencies) -> tuple[Leg | None, list[FieldProblem]]:
    """Validate one leg in the origin's JSON shape: the Leg, or every problem with its field."""
    problems: list[FieldProblem] = []
    key = _address_key(raw.get("address"), currencies)
    address = _known_address(key)
    parts = {} if address else _address(raw.get("address"), currencies, problems)
    currency = address.currency if address else parts.get("currency")

    side_raw = raw.get("type", raw.get("side"))
    side = None
    if side_raw is None:
        problems.append(FieldProblem("type", "is required (debit or credit)"))
    elif side_raw == "debit":
        side = Side.DEBIT
    elif side_raw == "credit":
        side = Side.CREDIT
    else:
        problems.append(FieldProblem("type", f"must be debit or credit, not {side_raw!r}"))

    amount = None
    if "amount" not in raw:
        problems.append(FieldProblem("amount", REQUIRED))
    else:
        try:
            if currency is not None:
                amount = parse_amount(raw["amount"], currency, currencies)
            else:  # precision needs a valid currency; still refuse what is no number at all
                parse_number(raw["amount"])
        except (AmountError, CurrencyError) as error:
            problems.append(FieldProblem("amount", str(error)))

    description = raw.get("description", "")
    reason = description_problem(description)
    if reason:
        problems.append(FieldProblem("description", reason))

    effective_at = None
    if raw.get("timestamp") is not None:
        try:
            effective_at = parse_effective_time(raw["timestamp"])
        except (ValueError, OverflowError) as error:
            problems.append(FieldProblem("timestamp", str(error)))

    if address is None and len(parts) == len(ADDRESS_FIELDS):
        address = Address(**parts)
        _remember_address(key, address)
    if problems or side is None or amount is None or address is None:
        return None, problems
    return Leg(address, side, amount, str(description), effective_at), []
