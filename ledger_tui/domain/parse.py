"""Turn the origin's JSON entry-set format into a validated, balanced EntrySet.

Every problem is collected with the leg index, field and reason, so one round trip tells
the operator everything that is wrong; nothing partial ever reaches a store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .errors import FieldProblem, ValidationError
from .legs import check_leg
from .model import EntrySet, Leg, totals_by_currency
from .money import DEFAULT_CURRENCIES, Currencies

MAX_LEGS = 200


def loads_exact(text: str | bytes) -> Any:
    """``json.loads`` with every number as Decimal, so no amount ever passes through float."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the ledger accepts")


def decode_json(text: str | bytes, field: str = "") -> Any:
    """Decode a JSON document exactly (numbers as Decimal, NaN/Infinity refused); ``field`` names
    the document in the error."""
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ValidationError.single(field, f"not valid JSON: {error}") from None


def parse_entry_set_json(text: str | bytes, currencies: Currencies = DEFAULT_CURRENCIES) -> EntrySet:
    """Parse and validate a JSON document in the origin's ``transaction.json`` format."""
    return entry_set_from_data(decode_json(text), currencies)


def _parse_leg(index: int, raw: object, currencies: Currencies, problems: list[FieldProblem]) -> Leg | None:
    prefix = f"entries[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(FieldProblem(prefix, "must be an object"))
        return None
    leg, found = check_leg(raw, currencies)
    problems.extend(FieldProblem(f"{prefix}.{p.field}", p.reason) for p in found)
    return leg


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
