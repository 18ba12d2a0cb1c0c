"""Hostile input to the domain: lookalike and invisible characters, bounded numbers, times, documents and errors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.document import MAX_DOCUMENT_BYTES, loads_document
from ledger_tui.domain.errors import FieldProblem, ValidationError
from ledger_tui.domain.money import NumberOutOfRange, bounded_json_number
from ledger_tui.domain.parse import MAX_SET_TEXT_BYTES, parse_entry_set_json, parse_transaction_id
from ledger_tui.domain.text import shown


def document(
    account: object = "acc", description: object = "d", amount: object = "1.00", **extra: object
) -> str:
    legs = [
        {"address": {"legal_entity": "le", "namespace": "ns", "name": "n", "currency": "GBP",
                     "account_id": account}, "type": "debit", "amount": amount, "description": description},
        {"address": {"legal_entity": "le", "namespace": "ns", "name": "n", "currency": "GBP",
                     "account_id": "other"}, "type": "credit", "amount": amount},
    ]  # fmt: skip
    return json.dumps({"entries": legs, **extra})


def problems(text: str | bytes) -> list[FieldProblem]:
    with pytest.raises(ValidationError) as caught:
        parse_entry_set_json(text)
    return caught.value.problems


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ("\ud800", "lone surrogate U+D800"),
        ("x\udfff", "lone surrogate U+DFFF"),
        ("e\u0301", "must be in Unicode NFC form"),
        ("a\u202eb", "format characters such as U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("a\u200db", "format characters such as U+200D (ZERO WIDTH JOINER)"),
        ("a\ufeffb", "format characters such as U+FEFF"),
        ("a\u2028b", "line separator characters such as U+2028"),
        ("a\u2029b", "paragraph separator characters"),
        ("a\u3000b", "space separator characters such as U+3000"),
        ("a b", "space separator characters such as U+0020 (SPACE)"),
        ("a\x85b", "control characters such as U+0085"),
    ],
)
def test_address_parts_must_be_storable_nfc_without_invisible_characters(account: str, reason: str) -> None:
    [problem] = problems(document(account))
    assert problem.field == "entries[0].address.account_id" and reason in problem.reason
    with pytest.raises(ValidationError) as caught:  # --address flags share the one rule
        parse_address(f"le/ns/n/GBP/{account}")
    assert reason in str(caught.value)


def test_lone_surrogates_in_descriptions_are_rejected_by_leg_and_field() -> None:
    [problem] = problems(document(description="ok \ud83d"))
    assert problem == FieldProblem("entries[0].description", problem.reason)
    assert "lone surrogate U+D83D" in problem.reason
    escaped = document().replace('"description": "d"', '"description": "\\udfff"')  # from a JSON escape
    assert "lone surrogate" in problems(escaped)[0].reason


@pytest.mark.parametrize(
    "text",
    ["🙂💸", "حساب", "עברית", "O'Brien", 'a"b', "x';DROP-TABLE-entries;--", "naïve", "日本語", "Ωmega"],
)
def test_hostile_but_valid_text_is_accepted_verbatim(text: str) -> None:
    entry_set = parse_entry_set_json(document(account=text, description=f"{text} \u202e{text}"))
    assert entry_set.legs[0].address.account_id == text
    assert entry_set.legs[0].description == f"{text} \u202e{text}"  # descriptions keep RTL marks


@pytest.mark.parametrize(
    "amount",
    [
        "1e9999999999999999999999",
        "1e-9999999999999999999999",
        "1" * 65,
        "0." + "0" * 70 + "1",
    ],
)
def test_numbers_are_bounded_before_computing(amount: str) -> None:
    for value in (json.dumps(amount), amount):  # as a JSON string and as a JSON number
        text = document().replace('"amount": "1.00"', f'"amount": {value}')
        found = problems(text)
        assert {p.field for p in found} == {"entries[0].amount", "entries[1].amount"}
        assert all("out of range" in p.reason for p in found)


def test_bounded_json_numbers() -> None:
    assert bounded_json_number("-12.5e3") == Decimal("-12.5e3")
    assert bounded_json_number("1e99999") == NumberOutOfRange("1e99999")
    assert bounded_json_number("9" * 65) == NumberOutOfRange("9" * 65)


@pytest.mark.parametrize(
    ("timestamp", "accepted"),
    [
        (0, True),
        ("1970-01-01T00:00:00Z", True),
        (-1, False),
        (253_399_622_399_999, True),  # 9999-11-30T23:59:59.999Z: the last accepted instant
        ("9999-11-30T23:59:59.999Z", True),
        (253_399_622_400_000, False),  # 9999-12-01: the month after would be year 10000
        (253_402_300_799_999, False),
        ("9999-12-31T23:59:59.999Z", False),
        ("1e9999999999999999999999", False),
        (json.loads("1e9999999999999999999999", parse_float=bounded_json_number), False),
        ("9" * 40, False),
    ],
)
def test_entry_times_stay_inside_what_every_read_path_represents(timestamp: object, accepted: bool) -> None:
    data = json.loads(document())
    data["entries"][0]["timestamp"] = data["entries"][1]["timestamp"] = None
    text = json.dumps(data).replace(
        "null", json.dumps(timestamp) if not isinstance(timestamp, NumberOutOfRange) else timestamp.text
    )
    if accepted:
        assert parse_entry_set_json(text).legs[0].effective_at is not None
    else:
        assert {p.field for p in problems(text)} == {"entries[0].timestamp", "entries[1].timestamp"}


def test_duplicate_keys_are_rejected_at_any_depth() -> None:
    for text in (
        '{"entries": [], "entries": []}',
        document().replace('"type": "debit"', '"type": "debit", "type": "credit"'),
    ):
        [problem] = problems(text)
        assert "duplicate key 'entries'" in problem.reason or "duplicate key 'type'" in problem.reason


def test_documents_are_utf8_and_bounded() -> None:
    assert parse_entry_set_json(b"\xef\xbb\xbf" + document().encode()).legs  # a BOM is dropped
    assert "not UTF-8 text (byte 0xff at offset 0)" in problems(b"\xff" + document().encode())[0].reason
    assert "larger than 16 MiB" in problems(b" " * (MAX_DOCUMENT_BYTES + 1))[0].reason
    assert loads_document(b" " * (MAX_DOCUMENT_BYTES - 2) + b"{}") == {}


def test_an_entry_set_holds_at_most_128_kib_of_text() -> None:
    legs = []
    for index in range(200):
        side = "debit" if index % 2 else "credit"
        legs.append({"address": {"legal_entity": "le", "namespace": "ns", "name": "n", "currency": "GBP",
                                 "account_id": f"a{index}"}, "type": side, "amount": "1",
                     "description": "€" * 300})  # fmt: skip
    [problem] = problems(json.dumps({"entries": legs}))
    assert problem.field == "entries" and f"at most {MAX_SET_TEXT_BYTES}" in problem.reason


def test_errors_are_capped_at_the_first_20() -> None:
    error = ValidationError([FieldProblem(f"f{i}", "bad") for i in range(45)])
    assert str(error).count("bad") == 20 and str(error).endswith("; and 25 more problem(s)")
    assert len(error.problems) == 45


@pytest.mark.parametrize(
    "value",
    [
        "١١١١١١١١-1111-1111-1111-111111111111",
        "{11111111-1111-1111-1111-111111111111}",
        "urn:uuid:11111111-1111-1111-1111-111111111111",
        "11111111111111111111111111111111",
        "11111111-1111-1111-1111-111111111111\n",
    ],
)
def test_transaction_ids_are_canonical_ascii_uuids(value: str) -> None:
    with pytest.raises(ValueError, match="is not a UUID"):
        parse_transaction_id(value)
    [problem] = problems(document(transaction_id=value))
    assert problem.field == "transaction_id"


def test_error_messages_show_user_text_short_and_escaped() -> None:
    assert shown("x" * 1000).endswith("...") and len(shown("x" * 1000)) == 60
    assert shown("a\u202eb") == "'a\\u202eb'"
