"""Hostile input on both stores: rejected sets leave nothing (no claim), both ends of time read
back on every path, the largest accepted set is one atomic write, odd-but-valid text is verbatim."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.parse import MAX_SET_TEXT_BYTES, build_entry_set
from ledger_tui.domain.text import utf8_size
from ledger_tui.domain.timeutil import LATEST_ENTRY_MS, Granularity, TimeRange, from_epoch_ms, parse_instant
from ledger_tui.engine import Engine
from ledger_tui.store.base import Store

from ..support.entry_sets import entry_set, leg

GBP = ("le", "ns", "n", "GBP")


async def counts(engine: Engine) -> tuple[int, int, int, bool]:
    report = await engine.verify()
    return report.transactions, report.entries, report.accounts, report.ok


@pytest.mark.parametrize("when", [0, LATEST_ENTRY_MS], ids=["1970-01-01", "9999-11-30"])
async def test_both_ends_of_time_are_stored_and_read_back_everywhere(engine: Engine, when: int) -> None:
    receipt = await engine.post_json(
        entry_set(
            leg("debit", "5.00", account="edge", timestamp=when),
            leg("credit", "5.00", account="other", timestamp=when),
        )
    )
    address = receipt.entries[0].address
    moment = from_epoch_ms(when)
    assert [e.effective_at for e in (await engine.entries(address)).items] == [moment]
    for time_range in (
        TimeRange(),
        TimeRange(moment, None),
        TimeRange(None, parse_instant("9999-12-31T23:59:59Z")),
    ):
        chunks = [chunk async for chunk in engine.iter_entries(address, time_range)]
        assert [e.effective_at for chunk in chunks for e in chunk] == [moment]
        [row] = await engine.balance(address, time_range)
        assert (row.debits, row.credits, row.count) == (Decimal("5.00"), 0, 1)
    assert await engine.buckets(address) == [f"{moment.year:04d}-{moment.month:02d}"]
    series = await engine.balance_series(address, TimeRange(moment, parse_instant("9999-12-31")) if when else
                                         TimeRange(moment, parse_instant("1970-03-01")), Granularity.MONTH)  # fmt: skip
    assert series and abs(series[-1].closing) == Decimal("5.00")
    assert await counts(engine) == (1, 2, 2, True)


async def test_december_9999_is_rejected_and_nothing_is_written(engine: Engine) -> None:
    late = LATEST_ENTRY_MS + 1
    with pytest.raises(ValidationError, match=r"9999-11-30T23:59:59\.999Z"):
        await engine.post_json(
            entry_set(leg("debit", "1", timestamp=late), leg("credit", "1", account="b", timestamp=late))
        )
    assert await counts(engine) == (0, 0, 0, True)


def _parts_heavy_legs(part_chars: int, count: int = 200) -> list[Leg]:
    """``count`` legs on distinct accounts whose four free address parts are long (the worst case
    for a batch: every index row repeats them)."""
    when = datetime(2024, 9, 1, tzinfo=UTC)
    legs = []
    for index in range(count):
        le, ns, n, a = (
            (f"{tag}{index:03d}-" + "é" * part_chars)[:part_chars] for tag in ("le", "ns", "n", "a")
        )
        address = Address(le, ns, n, "GBP", a)
        legs.append(Leg(address, Side.DEBIT if index % 2 else Side.CREDIT, Decimal("1.00"), "", when))
    return legs


def _text_bytes(legs: list[Leg]) -> int:
    return sum(utf8_size(leg.description) + sum(map(utf8_size, leg.address.as_tuple())) for leg in legs)


async def test_the_largest_accepted_set_is_one_atomic_write(engine: Engine) -> None:
    legs = _parts_heavy_legs(83)
    assert 0.97 * MAX_SET_TEXT_BYTES < _text_bytes(legs) <= MAX_SET_TEXT_BYTES
    receipt = await engine.post(build_entry_set(uuid.uuid4(), legs))
    assert len(receipt.entries) == 200
    assert await counts(engine) == (1, 200, 200, True)
    reversal = await engine.reverse(receipt.transaction_id)  # longer descriptions: still one write
    assert len(reversal.entries) == 200 and reversal.entries[0].description.startswith("Reversal of ")
    assert await counts(engine) == (2, 400, 200, True)


async def test_a_set_over_the_text_bound_is_rejected_before_any_claim(engine: Engine, store: Store) -> None:
    legs = _parts_heavy_legs(128)
    transaction_id = uuid.uuid4()
    with pytest.raises(ValidationError, match=f"at most {MAX_SET_TEXT_BYTES}"):
        await engine.post(build_entry_set(transaction_id, legs))
    assert await store.get_transaction(transaction_id) is None
    assert await counts(engine) == (0, 0, 0, True)


async def test_a_store_never_claims_what_it_cannot_encode(engine: Engine, store: Store) -> None:
    """Behind the domain's rules: a store binds every row before the claim (Cassandra claimed
    the id and then failed on the rows: "0 of 2 rows" for good)."""
    when = datetime(2024, 9, 1, tzinfo=UTC)
    legs = (
        Leg(Address(*GBP, "a"), Side.DEBIT, Decimal("1.00"), "bad \ud800", when),
        Leg(Address(*GBP, "b"), Side.CREDIT, Decimal("1.00"), "", when),
    )
    transaction = RecordedTransaction(uuid.uuid4(), legs, "hash", datetime(2024, 11, 5, tzinfo=UTC))
    with pytest.raises(ValidationError):
        await store.record(transaction, engine.policy)
    assert await store.get_transaction(transaction.transaction_id) is None
    assert await counts(engine) == (0, 0, 0, True)


@pytest.mark.parametrize(
    "text",
    [
        "🙂💸👨‍👩‍👧",
        "حساب-جاري",
        "עו״ש",
        "O'Brien''s",
        'say-"hi"',
        "x';DROP-TABLE-entries;--",
        "$$dollar$$",
        "日本語",
    ],
)
async def test_hostile_but_valid_text_is_stored_and_read_back_verbatim(engine: Engine, text: str) -> None:
    account = text.replace("\u200d", "")  # a zero-width joiner is a format character: not in parts
    description = f"{text} \u202b{text}\u202c \\ % _ ' \" ;"
    receipt = await engine.post_json(
        entry_set(
            leg("debit", "1", account=account, description=description), leg("credit", "1", account="b")
        )
    )
    stored = await engine.transaction(receipt.transaction_id)
    assert stored.legs[0].address.account_id == account and stored.legs[0].description == description
    [entry] = (await engine.entries(stored.legs[0].address)).items
    assert entry.description == description
    assert stored.legs[0].address in await engine.accounts()
    assert (await counts(engine))[3]
