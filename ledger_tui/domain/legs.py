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
    return utf8_problem(value)


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
    parts = _address(raw.get("address"), currencies, problems)

    side_raw = raw.get("type", raw.get("side"))
    side = None
    if side_raw is None:
        problems.append(FieldProblem("type", "is required (debit or credit)"))
    elif side_raw not in ("debit", "credit"):
        problems.append(FieldProblem("type", f"must be debit or credit, not {side_raw!r}"))
    else:
        side = Side(side_raw)

    amount = None
    if "amount" not in raw:
        problems.append(FieldProblem("amount", REQUIRED))
    else:
        try:
            if "currency" in parts:
                amount = parse_amount(raw["amount"], parts["currency"], currencies)
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

    if problems or side is None or amount is None:
        return None, problems
    leg = Leg(Address(**parts), side, amount, str(description), effective_at)
    return leg, []
