"""Turn the origin's JSON entry-set format into a validated, balanced EntrySet.

Every problem is collected with the leg index, field and reason, so one round trip tells
the operator everything that is wrong; nothing partial ever reaches a store.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from typing import Any

from .document import loads_document
from .errors import FieldProblem, ValidationError
from .legs import check_leg
from .model import Address, EntrySet, Leg, is_balanced, totals_by_currency
from .money import DEFAULT_CURRENCIES, Currencies
from .text import shown, utf8_size

MAX_LEGS = 200
#: Most UTF-8 bytes of text (address parts and descriptions) one entry set may hold, so that its
#: claim, which holds all its legs, always fits one conditional write the node accepts.
MAX_SET_TEXT_BYTES = 128 * 1024
#: A reversal prefixes each description with "Reversal of <id>: " (50 characters), so the reversal
#: of any accepted set fits: still far below that limit.
REVERSAL_TEXT_BYTES = MAX_SET_TEXT_BYTES + MAX_LEGS * 64
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def loads_exact(text: str | bytes) -> Any:
    """A JSON document with every number as a bounded Decimal (never float); see loads_document."""
    return loads_document(text)


def decode_json(text: str | bytes, field: str = "") -> Any:
    """Decode a JSON document exactly (see loads_document); ``field`` names the document in the error."""
    try:
        return loads_document(text)
    except ValidationError as error:
        if not field:
            raise
        raise ValidationError([FieldProblem(field, p.reason) for p in error.problems]) from None


def parse_entry_set_json(text: str | bytes, currencies: Currencies = DEFAULT_CURRENCIES) -> EntrySet:
    """Parse and validate a JSON document in the origin's ``transaction.json`` format."""
    return entry_set_from_data(loads_document(text), currencies)


def _parse_leg(index: int, raw: object, currencies: Currencies, problems: list[FieldProblem]) -> Leg | None:
    if type(raw) is not dict and not isinstance(raw, Mapping):  # decoded JSON: a dict, checked fast
        problems.append(FieldProblem(f"entries[{index}]", "must be an object"))
        return None
    leg, found = check_leg(raw, currencies)
    if found:  # a valid leg (nearly every leg of an import) builds no prefix and no generator
        problems.extend(FieldProblem(f"entries[{index}].{p.field}", p.reason) for p in found)
    return leg


def parse_transaction_id(value: object, *, submitted: bool = False) -> uuid.UUID:
    """A client-supplied transaction id: any UUID in canonical text form; ``submitted`` (a new set
    or hold's): not of the variant the ledger keeps for its own records (a lookup, or a set an
    older version recorded, may be of it)."""
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    if not _UUID.match(value):  # uuid.UUID() alone would take non-ASCII digits, braces, urn:
        raise ValueError(f"{shown(value)} is not a UUID (8-4-4-4-12 hexadecimal digits)")
    found = uuid.UUID(value)
    if submitted and found.variant == uuid.RESERVED_FUTURE:  # the ledger's own (hold outcomes)
        raise ValueError(f"{value} is of the UUID variant reserved for future definition (not for clients)")
    return found


def entry_set_from_data(
    data: object, currencies: Currencies = DEFAULT_CURRENCIES, *, recorded: bool = False
) -> EntrySet:
    """Validate already-decoded JSON data (numbers as Decimal) into a balanced EntrySet (a new
    one, or with ``recorded`` one read back from the ledger: a dump's)."""
    if not isinstance(data, Mapping):
        raise ValidationError.single("", "the document must be a JSON object with an 'entries' list")
    problems: list[FieldProblem] = []
    transaction_id = None
    if data.get("transaction_id") is not None:
        try:
            transaction_id = parse_transaction_id(data["transaction_id"], submitted=not recorded)
        except ValueError as error:
            problems.append(FieldProblem("transaction_id", str(error)))
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise ValidationError([*problems, FieldProblem("entries", "is required and must be a list")])
    if len(raw_entries) < 2:
        problems.append(FieldProblem("entries", "needs at least 2 legs to balance"))
    if len(raw_entries) > MAX_LEGS:  # legs are not even looked at: the set cannot be taken
        raise ValidationError([*problems, FieldProblem("entries", f"has more than {MAX_LEGS} legs")])
    legs = [_parse_leg(i, raw, currencies, problems) for i, raw in enumerate(raw_entries)]
    if problems:
        if not any(p.field.startswith("entries") for p in problems):  # legs fine: say if they balance
            problems.extend(unbalanced_problems([leg for leg in legs if leg is not None]))
        raise ValidationError(problems)
    return build_entry_set(transaction_id or uuid.uuid4(), [leg for leg in legs if leg is not None])


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


@functools.lru_cache(maxsize=65_536)
def _address_bytes(address: Address) -> int:
    """UTF-8 bytes of an address's parts (remembered: addresses repeat across a file's legs)."""
    return sum(map(utf8_size, address.as_tuple()))


def build_entry_set(
    transaction_id: uuid.UUID, legs: list[Leg], text_limit: int = MAX_SET_TEXT_BYTES
) -> EntrySet:
    """Check the structural rules on already-valid legs and return the EntrySet."""
    problems: list[FieldProblem] = []
    if len(legs) < 2:
        problems.append(FieldProblem("entries", "needs at least 2 legs to balance"))
    if len(legs) > MAX_LEGS:
        problems.append(FieldProblem("entries", f"has more than {MAX_LEGS} legs"))
    text_bytes = sum(utf8_size(leg.description) + _address_bytes(leg.address) for leg in legs)
    if text_bytes > text_limit:
        problems.append(
            FieldProblem(
                "entries",
                f"hold {text_bytes} bytes of text (addresses and descriptions); one entry set holds at "
                f"most {text_limit} so it is written in one atomic batch",
            )
        )
    if not is_balanced(legs):
        problems.extend(unbalanced_problems(legs))
    if problems:
        raise ValidationError(problems)
    return EntrySet(transaction_id=transaction_id, legs=tuple(legs))
