"""Turn the origin's JSON entry-set format into a validated, balanced EntrySet.

Every problem is collected with the leg index, field and reason, so one round trip tells
the operator everything that is wrong; nothing partial ever reaches a store.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .errors import FieldProblem, ValidationError
from .model import ADDRESS_FIELDS, Address, EntrySet, Leg, Side, totals_by_currency
from .money import DEFAULT_CURRENCIES, AmountError, Currencies, CurrencyError, parse_amount
from .timeutil import MAX_EPOCH_MS, from_epoch_ms, parse_instant, to_epoch_ms, truncate_to_ms

MAX_LEGS = 200
MAX_FIELD_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 1024
_FORBIDDEN_IN_ADDRESS = re.compile(r"[/\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def loads_exact(text: str | bytes) -> Any:
    """``json.loads`` with every number as Decimal, so no amount ever passes through float."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the ledger accepts")


def parse_entry_set_json(text: str | bytes, currencies: Currencies = DEFAULT_CURRENCIES) -> EntrySet:
    """Parse and validate a JSON document in the origin's ``transaction.json`` format."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ValidationError.single("", f"not valid JSON: {error}") from None
    return entry_set_from_data(data, currencies)


def validate_address_part(field: str, value: object) -> str | None:
    """Why ``value`` cannot be the address part ``field``, or None if it can."""
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be empty"
    if len(value) > MAX_FIELD_LENGTH:
        return f"is longer than {MAX_FIELD_LENGTH} characters"
    if _FORBIDDEN_IN_ADDRESS.search(value):
        return "must not contain '/' or control characters"
    if value != value.strip():
        return "must not start or end with spaces"
    return None


def parse_effective_time(value: object) -> datetime:
    """Epoch milliseconds (the origin's ``timestamp``) or an ISO 8601 string, as UTC."""
    if isinstance(value, bool):
        raise ValueError("must be epoch milliseconds or an ISO 8601 string, not a boolean")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError("must be a whole number of epoch milliseconds")
        if not 0 <= number <= MAX_EPOCH_MS:
            raise ValueError("must be between 1970 and 9999")
        return from_epoch_ms(int(number))
    if isinstance(value, str):
        moment = truncate_to_ms(parse_instant(value))
        if not 0 <= to_epoch_ms(moment) <= MAX_EPOCH_MS:
            raise ValueError("must be between 1970 and 9999")
        return moment
    raise ValueError("must be epoch milliseconds or an ISO 8601 string")


def _parse_leg(index: int, raw: object, currencies: Currencies, problems: list[FieldProblem]) -> Leg | None:
    prefix = f"entries[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(FieldProblem(prefix, "must be an object"))
        return None
    before = len(problems)

    def check(field: str, parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except (ValueError, OverflowError, CurrencyError, AmountError) as error:
            problems.append(FieldProblem(f"{prefix}.{field}", str(error)))
            return None

    address_raw = raw.get("address")
    parts: dict[str, str] = {}
    if not isinstance(address_raw, Mapping):
        problems.append(FieldProblem(f"{prefix}.address", "is required and must be an object"))
    else:
        for name in ADDRESS_FIELDS:
            value = address_raw.get(name)
            reason = "is required" if value is None else validate_address_part(name, value)
            if reason:
                problems.append(FieldProblem(f"{prefix}.address.{name}", reason))
            else:
                parts[name] = str(value)
        if (
            "currency" in parts
            and check("address.currency", lambda: currencies.digits(parts["currency"])) is None
        ):
            del parts["currency"]

    side_raw = raw.get("type", raw.get("side"))
    side = None
    if side_raw is None:
        problems.append(FieldProblem(f"{prefix}.type", "is required (debit or credit)"))
    elif side_raw not in ("debit", "credit"):
        problems.append(FieldProblem(f"{prefix}.type", f"must be debit or credit, not {side_raw!r}"))
    else:
        side = Side(side_raw)

    amount = None
    if "amount" not in raw:
        problems.append(FieldProblem(f"{prefix}.amount", "is required"))
    elif "currency" in parts:  # precision depends on a valid currency; else only that is reported
        amount = check("amount", lambda: parse_amount(raw["amount"], parts["currency"], currencies))

    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(FieldProblem(f"{prefix}.description", "must be a string"))
    elif len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            FieldProblem(f"{prefix}.description", f"is longer than {MAX_DESCRIPTION_LENGTH} characters")
        )
    elif _CONTROL.search(description):
        problems.append(FieldProblem(f"{prefix}.description", "must not contain control characters"))

    effective_at = None
    timestamp = raw.get("timestamp")
    if timestamp is not None:
        effective_at = check("timestamp", lambda: parse_effective_time(timestamp))

    if len(problems) > before or side is None or amount is None:
        return None
    return Leg(
        address=Address(**parts),
        side=side,
        amount=amount,
        description=str(description),
        effective_at=effective_at,
    )


def parse_transaction_id(value: object) -> uuid.UUID:
    """A client-supplied transaction id: any UUID in canonical text form."""
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None


def entry_set_from_data(data: object, currencies: Currencies = DEFAULT_CURRENCIES) -> EntrySet:
    """Validate already-decoded JSON data (numbers as Decimal) into a balanced EntrySet."""
    if not isinstance(data, Mapping):
        raise ValidationError.single("", "the document must be a JSON object with an 'entries' list")
    problems: list[FieldProblem] = []
    transaction_id = uuid.uuid4()
    if data.get("transaction_id") is not None:
        try:
            transaction_id = parse_transaction_id(data["transaction_id"])
        except ValueError as error:
            problems.append(FieldProblem("transaction_id", str(error)))
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise ValidationError([*problems, FieldProblem("entries", "is required and must be a list")])
    if len(raw_entries) < 2:
        problems.append(FieldProblem("entries", "needs at least 2 legs to balance"))
    if len(raw_entries) > MAX_LEGS:
        problems.append(FieldProblem("entries", f"has more than {MAX_LEGS} legs"))
    legs = [_parse_leg(i, raw, currencies, problems) for i, raw in enumerate(raw_entries)]
    if problems:
        if not any(p.field.startswith("entries") for p in problems):  # legs fine: say if they balance
            problems.extend(unbalanced_problems([leg for leg in legs if leg is not None]))
        raise ValidationError(problems)
    return build_entry_set(transaction_id, [leg for leg in legs if leg is not None])


def unbalanced_problems(legs: list[Leg] | tuple[Leg, ...]) -> list[FieldProblem]:
    """One problem per currency whose debits and credits differ, worded for an operator."""
    problems = []
    for totals in totals_by_currency(legs):
        difference = totals.difference
        if difference:
            heavier = "debits exceed credits" if difference > 0 else "credits exceed debits"
            problems.append(
                FieldProblem(
                    "entries",
                    f"unbalanced in {totals.currency}: debits {totals.debits}, credits "
                    f"{totals.credits} ({heavier} by {abs(difference)})",
                )
            )
    return problems


def build_entry_set(transaction_id: uuid.UUID, legs: list[Leg]) -> EntrySet:
    """Check the structural rules on already-valid legs and return the EntrySet."""
    problems: list[FieldProblem] = []
    if len(legs) < 2:
        problems.append(FieldProblem("entries", "needs at least 2 legs to balance"))
    problems.extend(unbalanced_problems(legs))
    if problems:
        raise ValidationError(problems)
    return EntrySet(transaction_id=transaction_id, legs=tuple(legs))
