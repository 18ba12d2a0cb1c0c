"""Parsing the origin's entry-set JSON: validation, balance per currency, payload hashing."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import MAX_FIELD_LENGTH
from ledger_tui.domain.balance import signed
from ledger_tui.domain.errors import FieldProblem, ValidationError
from ledger_tui.domain.legs import MAX_DESCRIPTION_LENGTH
from ledger_tui.domain.model import Address, EntrySet, Leg, Side, totals_by_currency
from ledger_tui.domain.money import Currencies
from ledger_tui.domain.parse import (
    MAX_LEGS,
    build_entry_set,
    entry_set_from_data,
    loads_exact,
    parse_entry_set_json,
    unbalanced_problems,
)
from ledger_tui.domain.timeutil import LATEST_ENTRY_MS

from ..support.stores import SAMPLE_JSON

SAMPLE = SAMPLE_JSON
TXID = "3f0e8a8e-6d4c-4f59-9a55-0d2f4c6b1a7e"


def address(currency: str = "GBP", account_id: str = "*", **parts: str) -> dict[str, str]:
    return {
        "legal_entity": parts.get("legal_entity", "fintech_uk"),
        "namespace": parts.get("namespace", "com.fintech.account"),
        "name": parts.get("name", "main"),
        "currency": currency,
        "account_id": account_id,
    }


def leg(side: str, amount: object, currency: str = "GBP", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"address": address(currency, **extra.pop("address", {})), "type": side}
    item["amount"] = amount
    item.update(extra)
    return item


def pair(amount: object = 100, currency: str = "GBP", **extra: Any) -> list[dict[str, Any]]:
    return [leg("debit", amount, currency, **extra), leg("credit", amount, currency, **extra)]


def raw_legs(*legs: tuple[str, str]) -> str:
    """A JSON document whose legs carry the given raw JSON amount tokens (numbers stay numbers)."""
    items = [
        f'{{"address": {json.dumps(address())}, "type": "{side}", "amount": {token}}}' for side, token in legs
    ]
    return '{"entries": [' + ", ".join(items) + "]}"


def problems_of(data: object) -> list[FieldProblem]:
    with pytest.raises(ValidationError) as caught:
        if isinstance(data, str | bytes):
            parse_entry_set_json(data)
        else:
            entry_set_from_data(data)
    assert caught.value.problems, "a ValidationError must carry at least one problem"
    assert str(caught.value) == "; ".join(str(p) for p in caught.value.problems)
    return caught.value.problems


def fields_of(data: object) -> list[str]:
    return [p.field for p in problems_of(data)]


def reason_for(data: object, field: str) -> str:
    matching = [p.reason for p in problems_of(data) if p.field == field]
    assert len(matching) == 1, f"expected exactly one problem at {field}, got {problems_of(data)}"
    return matching[0]


# --- the origin's sample ----------------------------------------------------------------------


def test_origin_sample_parses_to_six_balanced_legs() -> None:
    entry_set = parse_entry_set_json(SAMPLE)
    assert len(entry_set.legs) == 6
    assert [leg.side for leg in entry_set.legs] == [Side.DEBIT, Side.CREDIT] * 3
    assert [str(leg.amount) for leg in entry_set.legs] == [
        "100.00",
        "100.00",
        "50.00",
        "50.00",
        "30.00",
        "30.00",
    ]
    assert entry_set.legs[0].address == Address("fintech_uk", "com.fintech.account", "main", "GBP", "*")
    assert entry_set.legs[0].description == "Initial funding"
    assert entry_set.legs[0].effective_at == datetime(2024, 9, 26, 10, 40, tzinfo=UTC)
    assert all(leg.effective_at is not None for leg in entry_set.legs)
    [gbp] = totals_by_currency(entry_set.legs)
    assert (gbp.currency, gbp.debits, gbp.credits, gbp.difference) == ("GBP", 180, 180, 0)
    assert unbalanced_problems(entry_set.legs) == []
    # No transaction_id in the sample: each parse gets a fresh random (version 4) id...
    again = parse_entry_set_json(SAMPLE.encode())
    assert entry_set.transaction_id.version == 4
    assert entry_set.transaction_id != again.transaction_id
    # ...but the payload, and so its hash, is the same.
    assert entry_set.payload_hash == again.payload_hash
    assert entry_set.legs == again.legs


# --- transaction ids --------------------------------------------------------------------------


def test_client_transaction_id_is_kept() -> None:
    entry_set = entry_set_from_data({"transaction_id": TXID, "entries": pair()})
    assert entry_set.transaction_id == uuid.UUID(TXID)


@pytest.mark.parametrize("data", [{"entries": pair()}, {"transaction_id": None, "entries": pair()}])
def test_missing_transaction_id_is_generated(data: dict[str, Any]) -> None:
    ids = {entry_set_from_data(data).transaction_id for _ in range(20)}
    assert len(ids) == 20
    assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in ids)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("nope", "'nope' is not a UUID"),
        ("3f0e8a8e-6d4c-4f59-9a55", "is not a UUID"),
        ("", "is not a UUID"),
        (12345, "must be a UUID string"),
        (Decimal(1), "must be a UUID string"),
        ({"id": TXID}, "must be a UUID string"),
    ],
)
def test_invalid_transaction_id_is_rejected_by_field(value: object, reason: str) -> None:
    assert fields_of({"transaction_id": value, "entries": pair()}) == ["transaction_id"]
    assert reason in reason_for({"transaction_id": value, "entries": pair()}, "transaction_id")


def test_invalid_transaction_id_is_reported_with_leg_problems() -> None:
    data = {"transaction_id": "nope", "entries": [leg("debit", -1), leg("credit", 1)]}
    assert fields_of(data) == ["transaction_id", "entries[0].amount"]
    assert fields_of({"transaction_id": "nope"}) == ["transaction_id", "entries"]


def test_invalid_transaction_id_is_reported_with_unbalanced_legs() -> None:
    # The module promises one round trip tells the operator everything that is wrong.
    data = {"transaction_id": "nope", "entries": [leg("debit", 100), leg("credit", 99)]}
    problems = problems_of(data)
    assert [p.field for p in problems] == ["transaction_id", "entries"]
    assert "unbalanced in GBP" in problems[1].reason


# --- document shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("{", "", "not valid JSON"),
        ("", "", "not valid JSON"),
        (b'{"entries": "\xc3\x28"}', "", "not UTF-8 text (byte 0xc3 at offset 13)"),
        ('{"entries": NaN}', "", "NaN is not a number the ledger accepts"),
        ('{"entries": [{"amount": Infinity}]}', "", "Infinity is not a number the ledger accepts"),
        ('{"entries": [{"amount": -Infinity}]}', "", "-Infinity is not a number the ledger accepts"),
        ("[]", "", "must be a JSON object with an 'entries' list"),
        ('"entries"', "", "must be a JSON object"),
        ("{}", "entries", "is required and must be a list"),
        ('{"entries": {}}', "entries", "is required and must be a list"),
        ('{"entries": []}', "entries", "needs at least 2 legs"),
    ],
)
def test_malformed_documents_are_rejected(text: str | bytes, field: str, reason: str) -> None:
    [problem] = problems_of(text)
    assert problem.field == field
    assert reason in problem.reason


def test_nan_and_infinity_amount_literals_are_rejected() -> None:
    base = json.dumps({"entries": pair()})
    for literal in ("NaN", "Infinity", "-Infinity"):
        text = base.replace('"amount": 100', f'"amount": {literal}', 1)
        assert literal in text
        [problem] = problems_of(text)
        assert "is not a number the ledger accepts" in problem.reason


def test_a_single_leg_is_rejected_even_when_valid() -> None:
    [problem] = problems_of({"entries": [leg("debit", 100)]})
    assert problem == FieldProblem("entries", "needs at least 2 legs to balance")


def test_too_many_legs_are_rejected() -> None:
    legs = pair(1) * (MAX_LEGS // 2) + pair(1)
    assert len(legs) == MAX_LEGS + 2
    assert reason_for({"entries": legs}, "entries") == f"has more than {MAX_LEGS} legs"
    assert len(entry_set_from_data({"entries": pair(1) * (MAX_LEGS // 2)}).legs) == MAX_LEGS


def test_loads_exact_never_produces_floats() -> None:
    data = loads_exact('{"a": 0.1, "b": 1e17, "c": 100000000000000001, "d": [1.10]}')
    assert data == {
        "a": Decimal("0.1"),
        "b": Decimal("1E+17"),
        "c": Decimal(100000000000000001),
        "d": [Decimal("1.10")],
    }
    assert all(type(v) is Decimal for v in (data["a"], data["b"], data["c"], data["d"][0]))


# --- amounts inside legs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("100", "100.00"),
        ("100.00", "100.00"),
        ('"100"', "100.00"),
        ("1e2", "100.00"),
        ('"100.000"', "100.00"),
    ],
)
def test_json_numbers_and_strings_are_exact_decimals(raw: str, expected: str) -> None:
    text = raw_legs(("debit", raw), ("credit", '"100"'))
    entry_set = parse_entry_set_json(text)
    assert [str(leg.amount) for leg in entry_set.legs] == [expected, "100.00"]
    assert all(type(leg.amount) is Decimal for leg in entry_set.legs)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        (True, "must be a number, not a boolean"),
        (None, "must be a number, not null"),
        (Decimal(0), "must be greater than zero"),
        (Decimal(-100), "must be greater than zero"),
        ("-100", "not a plain decimal number"),
        ("NaN", "not a plain decimal number"),
        (Decimal("NaN"), "must be finite"),
        (Decimal("100.001"), "has more than 2 decimal places, the precision of GBP"),
        ("100.001", "has more than 2 decimal places, the precision of GBP"),
        (100.0, "not a float"),
        ([1], "must be a number, not list"),
    ],
)
def test_bad_amounts_name_the_leg_and_field(amount: object, reason: str) -> None:
    data = {"entries": [leg("debit", 100), leg("credit", amount)]}
    assert fields_of(data) == ["entries[1].amount"]
    assert reason in reason_for(data, "entries[1].amount")


def test_missing_amount_is_required() -> None:
    first = leg("debit", 100)
    del first["amount"]
    assert problems_of({"entries": [first, leg("credit", 100)]}) == [
        FieldProblem("entries[0].amount", "is required")
    ]


def test_jpy_and_bhd_precision_applies_per_leg() -> None:
    data = {"entries": [*pair("1500", "JPY"), leg("debit", "1.5", "JPY"), leg("credit", "1.2345", "BHD")]}
    assert fields_of(data) == ["entries[2].amount", "entries[3].amount"]
    assert "precision of JPY" in reason_for(data, "entries[2].amount")
    assert "precision of BHD" in reason_for(data, "entries[3].amount")
    ok = entry_set_from_data({"entries": [*pair("1500", "JPY"), *pair("1.234", "BHD")]})
    assert [str(leg.amount) for leg in ok.legs] == ["1500", "1500", "1.234", "1.234"]


def test_currency_problem_hides_the_amount_check_of_that_leg_only() -> None:
    data = {"entries": [leg("debit", "1.001", "XYZ"), leg("credit", "1.001", "GBP")]}
    problems = problems_of(data)
    assert [p.field for p in problems] == ["entries[0].address.currency", "entries[1].amount"]
    assert problems[0].reason == "unknown currency 'XYZ'"


def test_configured_extra_currency_is_accepted() -> None:
    text = json.dumps({"entries": pair("0.0001", "XTS")})
    with pytest.raises(ValidationError, match="unknown currency 'XTS'"):
        parse_entry_set_json(text)
    entry_set = parse_entry_set_json(text, Currencies(extra={"XTS": 4}))
    assert [str(leg.amount) for leg in entry_set.legs] == ["0.0001", "0.0001"]


def test_the_largest_amounts_of_an_eight_digit_currency_balance_exactly() -> None:
    """24 integer digits and 8 decimals are 32 digits, past Decimal's default 28: a balanced set
    of them is accepted (negating a total outside the money context once rounded it, so the
    set was refused as off by a minor unit), a set off by one minor unit is refused, and the
    debit's signed amount is exact."""
    big = "999999999999999999999999.99999999"
    currencies = Currencies(extra={"XTS": 8})
    entry_set = parse_entry_set_json(json.dumps({"entries": pair(big, "XTS")}), currencies)
    assert [str(leg.amount) for leg in entry_set.legs] == [big, big]
    assert signed(Side.DEBIT, Decimal(big)) == Decimal("-" + big)
    off = [leg("debit", big, "XTS"), leg("credit", "999999999999999999999999.99999998", "XTS")]
    with pytest.raises(ValidationError, match=r"debits exceed credits by 1E-8|by 0.00000001"):
        parse_entry_set_json(json.dumps({"entries": off}), currencies)


# --- every problem at once --------------------------------------------------------------------


def test_all_problems_are_reported_at_once_with_leg_index_and_field() -> None:
    no_type = leg("debit", 1)
    del no_type["type"]
    no_name = leg("debit", 1)
    del no_name["address"]["name"]
    data = {
        "entries": [
            no_type,  # 0
            leg("credit", -3),  # 1
            leg("debit", 1, "XYZ"),  # 2
            no_name,  # 3
            "not a leg",  # 4
            leg("credit", 1, description=5),  # 5
            leg("sideways", 1),  # 6
            leg("credit", 1, timestamp="junk"),  # 7
            leg("credit", 1, address={"account_id": "a/b"}),  # 8
            {"type": "debit", "amount": 1},  # 9
            leg("debit", 1),  # 10: valid, not reported
        ]
    }
    problems = problems_of(data)
    assert [p.field for p in problems] == [
        "entries[0].type",
        "entries[1].amount",
        "entries[2].address.currency",
        "entries[3].address.name",
        "entries[4]",
        "entries[5].description",
        "entries[6].type",
        "entries[7].timestamp",
        "entries[8].address.account_id",
        "entries[9].address",
    ]
    reasons = {p.field: p.reason for p in problems}
    assert reasons["entries[0].type"] == "is required (debit or credit)"
    assert reasons["entries[1].amount"] == "must be greater than zero"
    assert reasons["entries[3].address.name"] == "is required"
    assert reasons["entries[4]"] == "must be an object"
    assert reasons["entries[5].description"] == "must be a string"
    assert reasons["entries[6].type"] == "must be debit or credit, not 'sideways'"
    assert "'junk' is not an ISO 8601" in reasons["entries[7].timestamp"]
    assert reasons["entries[9].address"] == "is required and must be an object"


def test_several_problems_in_one_leg_are_all_reported() -> None:
    bad: dict[str, Any] = {
        "address": address("gbp", account_id=" x"),
        "type": "DEBIT",
        "description": "\x00",
        "timestamp": True,
    }
    bad["address"]["legal_entity"] = ""
    bad["amount"] = 1
    fields = fields_of({"entries": [bad, leg("credit", 1)]})
    assert fields == [
        "entries[0].address.legal_entity",
        "entries[0].address.account_id",
        "entries[0].address.currency",  # checked against the registry once it is a valid part
        "entries[0].type",
        "entries[0].description",
        "entries[0].timestamp",
    ]


def test_side_alias_is_accepted_and_case_matters() -> None:
    legs = [leg("debit", 5), leg("credit", 5)]
    legs[0]["side"] = legs[0].pop("type")
    assert entry_set_from_data({"entries": legs}).legs[0].side is Side.DEBIT
    assert fields_of({"entries": [leg("DEBIT", 5), leg("credit", 5)]}) == ["entries[0].type"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a/b", "must not contain '/'"),
        ("a\tb", "must not contain control characters such as U+0009"),
        ("a\x7fb", "must not contain control characters such as U+007F"),
        (" main", "must not contain space separator characters such as U+0020 (SPACE)"),
        ("main ", "must not contain space separator characters such as U+0020 (SPACE)"),
        ("x" * (MAX_FIELD_LENGTH + 1), f"is longer than {MAX_FIELD_LENGTH} characters"),
        (7, "must be a string"),
        (None, "is required"),
    ],
)
def test_address_parts_are_validated_by_name(value: object, reason: str) -> None:
    bad = leg("debit", 1)
    bad["address"]["name"] = value
    data = {"entries": [bad, leg("credit", 1)]}
    assert problems_of(data) == [FieldProblem("entries[0].address.name", reason)]


def test_address_parts_at_the_length_limit_and_unicode_are_fine() -> None:
    legs = pair(1, address={"name": "x" * MAX_FIELD_LENGTH, "account_id": "cliente-ñ-日本"})
    entry_set = entry_set_from_data({"entries": legs})
    assert entry_set.legs[0].address.name == "x" * MAX_FIELD_LENGTH
    assert entry_set.legs[0].address.account_id == "cliente-ñ-日本"


def test_descriptions() -> None:
    ok = entry_set_from_data({"entries": pair(1, description="line one\nline\ttwo")})
    assert ok.legs[0].description == "line one\nline\ttwo"
    assert entry_set_from_data({"entries": pair(1)}).legs[0].description == ""
    too_long = {
        "entries": [leg("debit", 1, description="d" * (MAX_DESCRIPTION_LENGTH + 1)), leg("credit", 1)]
    }
    assert (
        reason_for(too_long, "entries[0].description")
        == f"is longer than {MAX_DESCRIPTION_LENGTH} characters"
    )
    control = {"entries": [leg("debit", 1), leg("credit", 1, description="bell\x07")]}
    assert reason_for(control, "entries[1].description") == "must not contain control characters"


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (Decimal(1727347200000), datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        (1727347200000, datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        (Decimal("1.7273472E+12"), datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        (Decimal("1727347200000.000"), datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        ("2024-09-26T10:40:00Z", datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        ("2024-09-26T12:40:00+02:00", datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        ("2024-09-26T10:40:00", datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        ("2024-09-26", datetime(2024, 9, 26, tzinfo=UTC)),
        ("2024-09-26T10:40:00.123987Z", datetime(2024, 9, 26, 10, 40, 0, 123000, tzinfo=UTC)),
        ("1727347200000", datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        ("9999-11-30T23:59:59.999Z", datetime(9999, 11, 30, 23, 59, 59, 999000, tzinfo=UTC)),
    ],
)
def test_timestamps_become_utc_milliseconds(timestamp: object, expected: datetime) -> None:
    entry_set = entry_set_from_data({"entries": pair(1, timestamp=timestamp)})
    effective = entry_set.legs[0].effective_at
    assert effective == expected
    offset = None if effective is None else effective.utcoffset()
    assert offset is not None and offset.total_seconds() == 0


def test_missing_or_null_timestamp_means_when_recorded() -> None:
    assert entry_set_from_data({"entries": pair(1)}).legs[0].effective_at is None
    assert entry_set_from_data({"entries": pair(1, timestamp=None)}).legs[0].effective_at is None


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        (True, "not a boolean"),
        (Decimal("1.5"), "whole number of epoch milliseconds"),
        (Decimal("NaN"), "whole number of epoch milliseconds"),
        (Decimal(-1), "between 1970-01-01T00:00:00Z and 9999-11-30T23:59:59.999Z"),
        (Decimal(253_402_300_800_000), "between 1970-01-01T00:00:00Z and 9999-11-30T23:59:59.999Z"),
        (Decimal("1e30"), "between 1970-01-01T00:00:00Z and 9999-11-30T23:59:59.999Z"),
        ("1969-12-31T23:59:59Z", "between 1970-01-01T00:00:00Z and 9999-11-30T23:59:59.999Z"),
        ("junk", "is not an ISO 8601 date/time"),
        ("2024-02-30", "is not an ISO 8601 date/time"),
        ([2024], "epoch milliseconds or an ISO 8601 string"),
    ],
)
def test_bad_timestamps_are_rejected_by_field(timestamp: object, reason: str) -> None:
    data = {"entries": [leg("debit", 1), leg("credit", 1, timestamp=timestamp)]}
    assert fields_of(data) == ["entries[1].timestamp"]
    assert reason in reason_for(data, "entries[1].timestamp")


@pytest.mark.parametrize(
    "timestamp",
    [
        "99999999999999999",  # epoch ms as a string, far past year 9999
        "9999-12-31T23:30:00-01:00",  # a valid local time whose UTC instant is in year 10000
        "0001-01-01T00:30:00+01:00",  # a valid local time whose UTC instant is in year 0
    ],
)
def test_out_of_range_timestamp_strings_are_validation_errors(timestamp: str) -> None:
    # These must come back as a field problem like any other bad timestamp, never as a crash.
    text = json.dumps({"entries": [leg("debit", 1), leg("credit", 1, timestamp=timestamp)]})
    with pytest.raises(ValidationError) as caught:
        parse_entry_set_json(text)
    assert [p.field for p in caught.value.problems] == ["entries[1].timestamp"]


# --- balance ----------------------------------------------------------------------------------


def test_one_currency_against_another_is_unbalanced_in_both() -> None:
    problems = problems_of({"entries": [leg("debit", 100, "GBP"), leg("credit", 100, "EUR")]})
    assert [p.field for p in problems] == ["entries", "entries"]
    assert (
        problems[0].reason
        == "unbalanced in GBP: debits 100.00, credits 0.00 (debits exceed credits by 100.00)"
    )
    assert (
        problems[1].reason
        == "unbalanced in EUR: debits 0.00, credits 100.00 (credits exceed debits by 100.00)"
    )


def test_huge_amounts_are_compared_exactly() -> None:
    text = raw_legs(("debit", "100000000000000001"), ("credit", "1e17"))
    assert loads_exact(text)["entries"][1]["amount"] == Decimal("1E+17")
    [problem] = problems_of(text)
    assert problem.field == "entries"
    assert "unbalanced in GBP" in problem.reason
    assert "by 1.00" in problem.reason
    # The same magnitudes without the extra unit balance.
    balanced = parse_entry_set_json(raw_legs(("debit", "100000000000000000"), ("credit", "1e17")))
    assert [str(leg.amount) for leg in balanced.legs] == ["100000000000000000.00"] * 2


def test_decimal_fractions_balance_exactly() -> None:
    entry_set = parse_entry_set_json(raw_legs(("debit", "0.1"), ("debit", "0.2"), ("credit", "0.3")))
    assert [str(leg.amount) for leg in entry_set.legs] == ["0.10", "0.20", "0.30"]


def test_each_currency_must_balance_on_its_own() -> None:
    ok = entry_set_from_data({"entries": [*pair(100, "GBP"), *pair(1500, "JPY"), *pair("0.005", "BHD")]})
    assert [t.currency for t in totals_by_currency(ok.legs)] == ["GBP", "JPY", "BHD"]
    data = {
        "entries": [
            leg("debit", 100, "GBP"),
            leg("credit", 100, "GBP"),
            leg("debit", 1500, "JPY"),
            leg("credit", 1499, "JPY"),
            leg("debit", "0.005", "BHD"),
            leg("credit", "0.006", "BHD"),
        ]
    }
    problems = problems_of(data)
    assert [p.reason.split(":")[0] for p in problems] == ["unbalanced in JPY", "unbalanced in BHD"]
    assert "debits exceed credits by 1" in problems[0].reason
    assert "credits exceed debits by 0.001" in problems[1].reason


def test_build_entry_set_checks_structure_of_programmatic_legs() -> None:
    gbp = Address("le", "ns", "n", "GBP", "a")
    with pytest.raises(ValidationError, match="needs at least 2 legs"):
        build_entry_set(uuid.uuid4(), [Leg(gbp, Side.DEBIT, Decimal("1.00"))])
    with pytest.raises(ValidationError, match="unbalanced in GBP"):
        build_entry_set(
            uuid.uuid4(), [Leg(gbp, Side.DEBIT, Decimal("1.00")), Leg(gbp, Side.CREDIT, Decimal("1.01"))]
        )
    txid = uuid.uuid4()
    entry_set = build_entry_set(
        txid, [Leg(gbp, Side.DEBIT, Decimal("1.00")), Leg(gbp, Side.CREDIT, Decimal("1"))]
    )
    assert entry_set.transaction_id == txid


# --- payload hash -----------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "transaction_id": TXID,
    "entries": [
        leg("debit", 100, description="Initial funding", timestamp=1727347200000),
        leg(
            "credit",
            100,
            address={"namespace": "com.fintech.equity", "name": "owners"},
            timestamp=1727347200000,
        ),
    ],
}


def hash_of(data: dict[str, Any]) -> str:
    return entry_set_from_data(data).payload_hash


def test_payload_hash_ignores_json_spelling() -> None:
    compact = json.dumps(BASE, separators=(",", ":"))
    spaced = json.dumps(BASE, indent=4)

    def reorder(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reorder(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reorder(v) for v in value]
        return value

    reordered = json.dumps(reorder(BASE))
    assert reordered.index('"timestamp"') < reordered.index('"address"')
    hashes = {parse_entry_set_json(text).payload_hash for text in (compact, spaced, reordered)}
    for spelling in ("100.00", '"100"', "1e2", "100.000", '"100.0"', "1.00E+2"):
        text = compact.replace('"amount":100', f'"amount":{spelling}')
        assert text.count(f'"amount":{spelling}') == 2
        hashes.add(parse_entry_set_json(text).payload_hash)
    for timestamp in (
        '"2024-09-26T10:40:00Z"',
        '"2024-09-26T11:40:00+01:00"',
        '"2024-09-26T10:40:00.000400Z"',
    ):
        hashes.add(parse_entry_set_json(compact.replace("1727347200000", timestamp)).payload_hash)
    assert len(hashes) == 1
    [digest] = hashes
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_payload_hash_covers_the_legs_not_the_transaction_id() -> None:
    other_id = {**BASE, "transaction_id": str(uuid.uuid4())}
    assert hash_of(other_id) == hash_of(BASE)


def _changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_any_change_to_a_leg_changes_the_hash() -> None:
    swapped_sides = copy.deepcopy(BASE)
    swapped_sides["entries"][0]["type"], swapped_sides["entries"][1]["type"] = "credit", "debit"
    reordered = copy.deepcopy(BASE)
    reordered["entries"].reverse()
    both_amounts = _changed(("entries", 0, "amount"), "100.01")
    both_amounts["entries"][1]["amount"] = "100.01"
    both_currencies = _changed(("entries", 0, "address", "currency"), "EUR")
    both_currencies["entries"][1]["address"]["currency"] = "EUR"
    variants = {
        "base": BASE,
        "description": _changed(("entries", 0, "description"), "Initial funding!"),
        "description of other leg": _changed(("entries", 1, "description"), " "),
        "legal_entity": _changed(("entries", 0, "address", "legal_entity"), "fintech_eu"),
        "namespace": _changed(("entries", 1, "address", "namespace"), "com.fintech.other"),
        "name": _changed(("entries", 0, "address", "name"), "main2"),
        "account_id": _changed(("entries", 0, "address", "account_id"), "acct-1"),
        "timestamp +1ms": _changed(("entries", 0, "timestamp"), 1727347200001),
        "no timestamp": _changed(("entries", 0, "timestamp"), None),
        "sides": swapped_sides,
        "leg order": reordered,
        "amounts": both_amounts,
        "currencies": both_currencies,
    }
    hashes = {name: hash_of(data) for name, data in variants.items()}
    assert len(set(hashes.values())) == len(variants), hashes


def test_leg_without_timestamp_hashes_differently_from_one_with() -> None:
    without = {"entries": pair(1)}
    with_epoch = {"entries": pair(1, timestamp=0)}
    assert hash_of(without) != hash_of(with_epoch)
    assert hash_of(without) == hash_of({"entries": pair(1, timestamp=None)})


def test_entry_set_hash_is_deterministic_for_programmatic_sets() -> None:
    gbp = Address("le", "ns", "n", "GBP", "a")
    legs = (Leg(gbp, Side.DEBIT, Decimal("1.00")), Leg(gbp, Side.CREDIT, Decimal("1.00")))
    a = EntrySet(uuid.uuid4(), legs)
    b = EntrySet(uuid.uuid4(), legs)
    assert a.payload_hash == b.payload_hash
    assert a.canonical_legs()[0] == {
        "address": {
            "legal_entity": "le",
            "namespace": "ns",
            "name": "n",
            "currency": "GBP",
            "account_id": "a",
        },
        "type": "debit",
        "amount": "1.00",
        "description": "",
        "timestamp": None,
    }


# --- properties: balanced sets accepted, any perturbation rejected ----------------------------

DIGITS = {"GBP": 2, "EUR": 2, "JPY": 0, "BHD": 3}


@dataclass(frozen=True)
class LegSpec:
    currency: str
    side: str
    units: int  # minor units, > 0
    spelling: int  # how the amount is written in JSON
    timestamp: int | None


def amount_text(currency: str, units: int) -> str:
    return str(Decimal(units).scaleb(-DIGITS[currency]))


def render_amount(spec: LegSpec, units: int | None = None, currency: str | None = None) -> str:
    """A JSON token for the amount: bare number, string, trailing zeros or exponent form."""
    text = amount_text(currency or spec.currency, spec.units if units is None else units)
    kind = spec.spelling % 4
    if kind == 1:
        return f'"{text}"'
    if kind == 2:
        return text + ("" if "." in text else ".") + "00"
    if kind == 3:
        return str(Decimal(text).normalize()).replace("E+", "e")  # e.g. 1.5e3
    return text


def render(specs: list[LegSpec], amounts: list[str] | None = None, txid: str | None = None) -> str:
    parts = []
    for i, spec in enumerate(specs):
        item: dict[str, Any] = {
            "address": address(spec.currency, account_id=f"acct-{i}"),
            "type": spec.side,
            "amount": "@",
        }
        if spec.timestamp is not None:
            item["timestamp"] = spec.timestamp
        token = amounts[i] if amounts is not None else render_amount(spec)
        parts.append(json.dumps(item).replace('"@"', token))
    head = f'"transaction_id": "{txid}", ' if txid else ""
    return "{" + head + '"entries": [' + ", ".join(parts) + "]}"


@st.composite
def splits(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """``parts`` positive integers summing to ``total``."""
    parts = min(parts, total)
    if parts == 1:
        return [total]
    cuts = draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True))
    edges = [0, *sorted(cuts), total]
    return [b - a for a, b in itertools.pairwise(edges)]


@st.composite
def balanced_specs(draw: st.DrawFn) -> list[LegSpec]:
    currencies = draw(st.lists(st.sampled_from(sorted(DIGITS)), min_size=1, max_size=4, unique=True))
    specs = []
    for code in currencies:
        total = draw(st.one_of(st.integers(1, 1000), st.integers(1, 10**20)))
        for side in ("debit", "credit"):
            for units in draw(splits(total, draw(st.integers(1, 4)))):
                timestamp = draw(st.none() | st.integers(0, LATEST_ENTRY_MS))
                specs.append(LegSpec(code, side, units, draw(st.integers(0, 3)), timestamp))
    return draw(st.permutations(specs))


@settings(max_examples=200, deadline=None)
@given(balanced_specs())
def test_random_balanced_sets_are_accepted(specs: list[LegSpec]) -> None:
    txid = str(uuid.uuid4())
    entry_set = parse_entry_set_json(render(specs, txid=txid))
    assert str(entry_set.transaction_id) == txid
    assert len(entry_set.legs) == len(specs)
    for parsed, spec in zip(entry_set.legs, specs, strict=True):
        assert parsed.address.currency == spec.currency
        assert parsed.side.value == spec.side
        assert parsed.amount == Decimal(amount_text(spec.currency, spec.units))
        assert parsed.amount.as_tuple().exponent == -DIGITS[spec.currency]
    for totals in totals_by_currency(entry_set.legs):
        assert totals.debits == totals.credits
    # Re-spelling every amount does not change the payload hash.
    respelled = [
        render_amount(LegSpec(s.currency, s.side, s.units, s.spelling + 1, s.timestamp)) for s in specs
    ]
    assert parse_entry_set_json(render(specs, respelled)).payload_hash == entry_set.payload_hash


def unbalanced_currencies(text: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_entry_set_json(text)
    problems = caught.value.problems
    assert all(p.field == "entries" and p.reason.startswith("unbalanced in ") for p in problems), problems
    return [p.reason.removeprefix("unbalanced in ")[:3] for p in problems]


@settings(max_examples=200, deadline=None)
@given(balanced_specs(), st.data())
def test_changing_one_amount_by_one_minor_unit_is_unbalanced(
    specs: list[LegSpec], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(specs) - 1))
    spec = specs[i]
    step = 1 if spec.units == 1 else data.draw(st.sampled_from([-1, 1]))
    amounts = [render_amount(s) for s in specs]
    amounts[i] = render_amount(spec, units=spec.units + step)
    assert unbalanced_currencies(render(specs, amounts)) == [spec.currency]


@settings(max_examples=200, deadline=None)
@given(balanced_specs(), st.data())
def test_flipping_one_side_is_unbalanced(specs: list[LegSpec], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(specs) - 1))
    flipped = list(specs)
    spec = specs[i]
    flipped[i] = LegSpec(spec.currency, "credit" if spec.side == "debit" else "debit", *_rest(spec))
    assert unbalanced_currencies(render(flipped)) == [spec.currency]


def _rest(spec: LegSpec) -> tuple[int, int, int | None]:
    return spec.units, spec.spelling, spec.timestamp


@settings(max_examples=200, deadline=None)
@given(balanced_specs(), st.data())
def test_moving_one_leg_to_another_currency_is_unbalanced_in_both(
    specs: list[LegSpec], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(specs) - 1))
    spec = specs[i]
    target = data.draw(st.sampled_from(sorted(set(DIGITS) - {spec.currency})))
    value = Decimal(amount_text(spec.currency, spec.units))
    moved = list(specs)
    moved[i] = LegSpec(target, spec.side, *_rest(spec))
    amounts = [render_amount(s) for s in specs]
    amounts[i] = json.dumps(str(value))
    text = render(moved, amounts)
    if value != value.quantize(Decimal(1).scaleb(-DIGITS[target]), rounding="ROUND_DOWN"):
        # The amount does not fit the new currency: that is what gets reported for the leg.
        assert fields_of(text) == [f"entries[{i}].amount"]
        assert f"precision of {target}" in reason_for(text, f"entries[{i}].amount")
        return
    order = list(dict.fromkeys(s.currency for s in moved))
    assert unbalanced_currencies(text) == [c for c in order if c in (spec.currency, target)]
