"""One contract, two stores: every test here runs on SQLite and on the real Cassandra node."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger_tui.domain.address import parse_address, parse_pattern
from ledger_tui.domain.errors import ConflictingResubmission, ValidationError
from ledger_tui.domain.model import Address, Entry, PostStatus, Side
from ledger_tui.domain.timeutil import TimeRange, to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.store.base import Store

from ..support.entry_sets import entry_set, leg, transfer
from ..support.stores import SAMPLE_JSON, FixedClock

MAIN = parse_address("fintech_uk/com.fintech.account/main/GBP/*")
ACC1 = Address("test_uk", "com.test.customer", "current", "GBP", "acc-1")
ACC2 = Address("test_uk", "com.test.customer", "current", "GBP", "acc-2")


def ms(text: str) -> int:
    return to_epoch_ms(datetime.fromisoformat(text).replace(tzinfo=UTC))


async def all_entries(engine: Engine, address: Address, time_range: TimeRange = TimeRange()) -> list[Entry]:
    page = await engine.entries(address, time_range, page_size=10_000)
    assert page.next_token is None
    return page.items


async def test_origin_sample_round_trip(engine: Engine, clock: FixedClock) -> None:
    receipt = await engine.post_json(SAMPLE_JSON)
    assert receipt.status is PostStatus.RECORDED
    assert receipt.recorded_at == clock.now
    assert len(receipt.entries) == 6

    accounts = await engine.accounts()
    assert [str(a) for a in accounts] == [
        "fintech_uk/com.fintech.account/main/GBP/*",
        "fintech_uk/com.fintech.equity/owners/GBP/*",
        "fintech_uk/com.fintech.revenue/general/GBP/*",
        "fintech_uk/com.fintech.utilities/electric/GBP/*",
    ]
    main_rows = await all_entries(engine, MAIN)
    assert [(e.side, e.amount, e.description) for e in main_rows] == [
        (Side.DEBIT, Decimal("100.00"), "Initial funding"),
        (Side.DEBIT, Decimal("50.00"), "Client payment"),
        (Side.CREDIT, Decimal("30.00"), "Paid utilities"),
    ]
    assert all(str(e.amount) == f"{e.amount:.2f}" for e in main_rows)  # currency precision kept
    assert main_rows[0].effective_at == datetime(2024, 9, 26, 10, 40, tzinfo=UTC)
    assert await engine.buckets(MAIN) == ["2024-09"]

    stored = await engine.transaction(receipt.transaction_id)
    assert [e.to_json() for e in stored.entries()] == [e.to_json() for e in receipt.entries]

    (row,) = await engine.balance(MAIN)
    assert (row.opening, row.debits, row.credits, row.closing) == (0, 150, 30, Decimal("-120.00"))


async def test_same_account_same_millisecond_both_kept(engine: Engine) -> None:
    when = ms("2024-09-10T12:00:00")
    first = await engine.post_json(transfer("10.00", when, description="first"))
    second = await engine.post_json(transfer("10.00", when, description="second"))
    assert first.transaction_id != second.transaction_id
    rows = await all_entries(engine, ACC1)
    assert sorted(e.description for e in rows) == ["first", "second"]
    assert {e.effective_at for e in rows} == {datetime(2024, 9, 10, 12, tzinfo=UTC)}
    # Two legs of ONE set on the same account and millisecond are two rows too.
    await engine.post_json(
        entry_set(
            leg("debit", 5, account="acc-3", timestamp=when),
            leg("debit", 5, account="acc-3", timestamp=when),
            leg("credit", 10, account="acc-4", timestamp=when),
        )
    )
    assert len(await all_entries(engine, Address(*ACC1.as_tuple()[:4], "acc-3"))) == 2


async def test_duplicate_submission_returns_original_and_writes_nothing(
    engine: Engine, clock: FixedClock
) -> None:
    txid = uuid.uuid4()
    document = transfer(25, ms("2024-09-12T08:00:00"), transaction_id=txid)
    original = await engine.post_json(document)
    clock.advance(minutes=5)
    # Same payload spelled differently (number vs string, extra precision) is the same payload.
    respelled = transfer("25.00", ms("2024-09-12T08:00:00"), transaction_id=txid)  # a JSON string now
    assert respelled != document
    retry = await engine.post_json(respelled)
    assert retry.status is PostStatus.DUPLICATE
    assert retry.transaction_id == txid
    assert retry.recorded_at == original.recorded_at != clock.now
    assert [e.to_json() for e in retry.entries] == [e.to_json() for e in original.entries]
    assert len(await all_entries(engine, ACC1)) == 1
    assert len(await all_entries(engine, ACC2)) == 1


async def test_default_timestamp_is_recorded_time_and_retry_is_still_duplicate(
    engine: Engine, clock: FixedClock
) -> None:
    txid = uuid.uuid4()
    document = entry_set(
        leg("debit", 7, timestamp=None),
        leg("credit", 7, account="acc-2", timestamp=None),
        transaction_id=txid,
    )
    assert "timestamp" not in document
    first = await engine.post_json(document)
    assert first.entries[0].effective_at == clock.now
    clock.advance(hours=1)
    again = await engine.post_json(document)
    assert again.status is PostStatus.DUPLICATE
    assert again.entries[0].effective_at == first.entries[0].effective_at


async def test_conflicting_resubmission_rejected_and_original_kept(engine: Engine) -> None:
    txid = uuid.uuid4()
    await engine.post_json(transfer(25, ms("2024-09-12T08:00:00"), transaction_id=txid))
    with pytest.raises(ConflictingResubmission, match="conflicting resubmission"):
        await engine.post_json(transfer(26, ms("2024-09-12T08:00:00"), transaction_id=txid))
    rows = await all_entries(engine, ACC1)
    assert [e.amount for e in rows] == [Decimal("25.00")]


async def test_concurrent_retries_store_once(engine: Engine) -> None:
    txid = uuid.uuid4()
    document = transfer(3, ms("2024-09-12T08:00:00"), transaction_id=txid)
    receipts = await asyncio.gather(*(engine.post_json(document) for _ in range(12)))
    assert sorted(r.status.value for r in receipts).count("recorded") == 1
    assert len({r.recorded_at for r in receipts}) == 1
    assert len(await all_entries(engine, ACC1)) == 1


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (entry_set(leg("debit", 100, currency="GBP"), leg("credit", 100, currency="EUR")), "entries"),
        (entry_set(leg("debit", "100.001"), leg("credit", "100.001")), "entries[0].amount"),
        (entry_set(leg("debit", 10), leg("credit", 10, currency="XYZ")), "entries[1].address.currency"),
        (entry_set(leg("debit", -10), leg("credit", -10)), "entries[0].amount"),
        (entry_set(leg("debit", 10)), "entries"),
        ('{"entries": [', ""),
    ],
    ids=["mixed-currency", "too-many-decimals", "unknown-currency", "negative", "one-leg", "bad-json"],
)
async def test_rejected_input_writes_nothing(store: Store, engine: Engine, document: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        await engine.post_json(document)
    assert any(problem.field == field for problem in raised.value.problems), raised.value.problems
    assert await engine.accounts() == []
    assert (await store.scan_transactions(10)).items == []


async def test_month_boundary_ranges(engine: Engine) -> None:
    last_ms_of_sep = ms("2024-09-30T23:59:59.999")
    first_ms_of_oct = ms("2024-10-01T00:00:00")
    await engine.post_json(transfer(1, last_ms_of_sep))
    await engine.post_json(transfer(2, first_ms_of_oct))
    await engine.post_json(transfer(4, ms("2024-02-01T00:00:00")))
    assert await engine.buckets(ACC1) == ["2024-02", "2024-09", "2024-10"]

    def to_dt(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)

    def rng(start: str | None, end: str | None) -> TimeRange:
        return TimeRange(to_dt(start), to_dt(end))

    def amounts(rows: list[Entry]) -> list[Decimal]:
        return [e.amount for e in rows]

    assert amounts(await all_entries(engine, ACC1, rng("2024-09-15", "2024-10-10"))) == [1, 2]
    assert amounts(await all_entries(engine, ACC1, rng("2024-09-15", "2024-10-01"))) == [1]
    assert amounts(await all_entries(engine, ACC1, rng("2024-10-01", "2024-11-01"))) == [2]
    assert amounts(await all_entries(engine, ACC1, rng("2024-01-31", "2024-02-02"))) == [4]
    assert amounts(await all_entries(engine, ACC1, rng("2024-10-01", "2024-10-01"))) == []

    (row,) = await engine.balance(ACC1, rng("2024-10-01", "2024-11-01"))
    assert (row.opening, row.debits, row.credits, row.closing) == (-5, 2, 0, -7)


async def test_paging_1000_entries_in_pages_of_100(engine: Engine) -> None:
    # 500 sets, 2 legs each on the same account: 1,000 entries over four months, with ties.
    for i in range(500):
        when = ms("2024-08-20T00:00:00") + (i // 2) * 3_600_000 * 8
        await engine.post_json(
            entry_set(
                leg("debit", f"{i + 1}.00", account="paged", timestamp=when),
                leg("credit", f"{i + 1}.00", account="paged", timestamp=when),
            )
        )
    paged = Address(*ACC1.as_tuple()[:4], "paged")
    assert await engine.buckets(paged) == ["2024-08", "2024-09", "2024-10", "2024-11"]
    seen, token, pages = [], None, 0
    while True:
        page = await engine.entries(paged, TimeRange(), page_size=100, token=token)
        pages += 1
        assert len(page.items) == 100
        seen.extend(page.items)
        if page.next_token is None:
            break
        token = page.next_token
    assert pages == 10
    ids = [e.entry_id for e in seen]
    assert len(set(ids)) == 1000
    keys = [(e.effective_at, str(e.transaction_id), e.leg_index) for e in seen]
    assert keys == sorted(keys)


async def test_balance_of_named_balance_and_wildcard(
    make_engine: Callable[..., Engine], clock: FixedClock
) -> None:
    from ledger_tui.domain.named import NamedBalance

    named = NamedBalance("customers", "", (parse_pattern("test_uk/com.test.customer/current/GBP/*"),))
    engine = make_engine(named_balances={"customers": named})
    await engine.post_json(transfer("10.50", ms("2024-09-01T10:00:00"), debit="acc-1", credit="acc-2"))
    await engine.post_json(transfer("0.25", ms("2024-10-01T10:00:00"), debit="acc-2", credit="acc-3"))
    rows = await engine.balance("customers")
    assert [(r.currency, r.debits, r.credits, r.closing) for r in rows] == [
        ("GBP", Decimal("10.75"), Decimal("10.75"), Decimal("0.00"))
    ]
    (acc2,) = await engine.balance(parse_pattern("test_uk/com.test.customer/current/GBP/acc-2"))
    assert acc2.closing == Decimal("10.25")


async def test_reversal_zeroes_balance_and_is_idempotent(engine: Engine) -> None:
    original = await engine.post_json(transfer(40, ms("2024-09-01T10:00:00")))
    reversal = await engine.reverse(original.transaction_id)
    assert reversal.status is PostStatus.RECORDED
    again = await engine.reverse(original.transaction_id)
    assert again.status is PostStatus.DUPLICATE
    (row,) = await engine.balance(ACC1)
    assert row.closing == 0 and row.debits == row.credits == 40
    assert len(await all_entries(engine, ACC1)) == 2


async def test_verify_passes_on_balanced_ledger(engine: Engine) -> None:
    await engine.post_json(SAMPLE_JSON)
    await engine.post_json(transfer("9.99", ms("2024-09-01T10:00:00"), currency="EUR"))
    report = await engine.verify()
    assert report.ok, report.problems
    assert (report.transactions, report.entries, report.accounts) == (2, 8, 6)
    assert (report.totals["GBP"].debits, report.totals["GBP"].credits) == (
        Decimal("180.00"),
        Decimal("180.00"),
    )
    assert (report.totals["EUR"].debits, report.totals["EUR"].credits) == (Decimal("9.99"), Decimal("9.99"))


async def test_children_paging(engine: Engine) -> None:
    for i in range(5):
        await engine.post_json(transfer(1, ms("2024-09-01T10:00:00"), debit=f"a{i}", credit=f"b{i}"))
    parent = ACC1.as_tuple()[:4]
    collected, token = [], None
    while True:
        page = await engine.children(parent, page_size=3, token=token)
        collected.extend(page.items)
        if page.next_token is None:
            break
        token = page.next_token
    assert collected == sorted(f"{p}{i}" for p in "ab" for i in range(5))
    assert (await engine.children(())).items == ["test_uk"]


async def test_schema_apply_is_idempotent(store: Store, engine: Engine) -> None:
    await engine.post_json(transfer(1, ms("2024-09-01T10:00:00")))
    await store.apply_schema()
    assert len(await all_entries(engine, ACC1)) == 1
