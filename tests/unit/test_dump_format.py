"""The dump's lines and the books' digest: exact round trips, tampering refused, order ignored."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.dump import (
    BooksDigest,
    DumpHeader,
    parse_footer,
    parse_header,
    parse_set_line,
    reverses,
    set_line,
)
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.model import Leg, RecordedTransaction
from ledger_tui.domain.reversal import reversal_id, reversal_legs
from ledger_tui.loader.generate import SampleGenerator

UNTIL = datetime(2024, 11, 5, 9, 30, tzinfo=UTC)
SETS = list(SampleGenerator(7, UNTIL, 6).entry_sets(60))


def recorded(index: int, delay_ms: int = 0) -> RecordedTransaction:
    """The index-th generated set, recorded ``delay_ms`` after the end of the generated span."""
    return RecordedTransaction.of(SETS[index], UNTIL + timedelta(milliseconds=delay_ms))


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(SETS) - 1), delay_ms=st.integers(0, 10**10))
def test_a_set_line_reads_back_as_the_same_recorded_set(index: int, delay_ms: int) -> None:
    original = recorded(index, delay_ms)
    again = parse_set_line(set_line(original))
    assert again == original
    assert again.payload_hash == original.payload_hash and again.recorded_at == original.recorded_at


def _tampered(**changes: object) -> str:
    data = json.loads(set_line(recorded(3)))
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (_tampered(payload_hash="0" * 64), "payload_hash"),
        (_tampered(recorded_at="2024-11-05T09:30:00.1234Z"), "recorded_at"),
        (_tampered(recorded_at="١٩٧٠-01-01T00:00:00Z"), "recorded_at"),
        (_tampered(recorded_at=None), "recorded_at"),
        (_tampered(transaction_id="not-a-uuid"), "transaction_id"),
        (_tampered(entries=[]), "entries"),
        ("[1, 2]", ""),
        ("{", ""),
    ],
)
def test_a_changed_or_broken_line_is_refused_naming_the_field(line: str, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_set_line(line)
    assert field in {problem.field for problem in refused.value.problems}


def test_an_amount_changed_by_hand_no_longer_matches_the_payload_hash() -> None:
    data = json.loads(set_line(recorded(4)))
    for leg in data["entries"]:
        leg["amount"] = str(2 * Decimal(leg["amount"]))  # still balanced: only the hash can tell
    with pytest.raises(ValidationError) as refused:
        parse_set_line(json.dumps(data))
    assert [problem.field for problem in refused.value.problems] == ["payload_hash"]


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(list(range(20))))
def test_the_digest_ignores_order_and_counts_every_set(order: list[int]) -> None:
    forward, shuffled = BooksDigest(), BooksDigest()
    for index in range(20):
        forward.add(recorded(index))
    for index in order:
        shuffled.add(recorded(index))
    assert forward.hexdigest == shuffled.hexdigest and (forward.sets, forward.entries) == (
        shuffled.sets,
        shuffled.entries,
    )


@pytest.mark.parametrize("change", ["one more set", "one set fewer", "a later recording time"])
def test_the_digest_differs_when_the_books_differ(change: str) -> None:
    books = [recorded(index) for index in range(10)]
    other = list(books)
    if change == "one more set":
        other.append(recorded(10))
    elif change == "one set fewer":
        other.pop()
    else:
        other[4] = recorded(4, delay_ms=1)
    first, second = BooksDigest(), BooksDigest()
    for transaction in books:
        first.add(transaction)
    for transaction in other:
        second.add(transaction)
    assert first.hexdigest != second.hexdigest


def test_a_reversal_names_its_original_only_when_its_id_proves_it() -> None:
    original = recorded(6)
    legs = tuple(reversal_legs(original))
    reversal = RecordedTransaction(reversal_id(original.transaction_id), legs, "h", UNTIL)
    assert reverses(reversal) == original.transaction_id
    impostor = RecordedTransaction(uuid.uuid4(), legs, "h", UNTIL)  # says "Reversal of ..." but is not
    assert reverses(impostor) is None
    custom = tuple(Leg(leg.address, leg.side, leg.amount, "refund", None) for leg in legs)
    assert reverses(RecordedTransaction(reversal_id(original.transaction_id), custom, "h", UNTIL)) is None
    assert json.loads(set_line(RecordedTransaction.of(SETS[1], UNTIL))).get("reverses") is None


def test_header_and_footer_read_back_and_a_foreign_first_line_is_refused() -> None:
    header = DumpHeader(uuid.uuid4(), UNTIL, {"seal_horizon_ms": "86400000"})
    assert parse_header(header.to_line()) == header
    for line in ('{"transaction_id": "x"}', '{"format": "ledger-tui dump", "version": 2}', "not json"):
        with pytest.raises(ValidationError):
            parse_header(line)
    with pytest.raises(ValidationError):
        parse_header(json.dumps({"format": "ledger-tui dump", "version": 1, "dump_id": str(uuid.uuid4()),
                                 "settings": {"password": "x"}}))  # fmt: skip
    footer = parse_footer(json.loads('{"end": true, "sets": 3, "entries": 7, "digest": "' + "a" * 64 + '"}'))
    assert (footer.sets, footer.entries) == (3, 7)
    with pytest.raises(ValidationError):
        parse_footer({"end": True, "sets": -1, "entries": 7, "digest": "a" * 64})
