"""Repair on Cassandra where rows are found by layout or by settings: sets and captures whose
write died after the claim, in a ledger whose rollups are in parts, repaired after their day was
sealed, and by a process that never wrote to a ledger holding more than a page of settings."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.domain.address import parse_address, parse_pattern
from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.domain.timeutil import TimeRange, from_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.cassandra.holds import CassandraHolds
from ledger_tui.store.url import parse_store_url

from ..support.entry_sets import transfer
from ..support.stores import JANITOR, FixedClock, store_url

pytestmark = pytest.mark.cassandra
ROLLUP = ("fin_uk", "com.fin.customer", "current", "GBP")
#: Account ids that sort oddly: unicode (2-, 3- and 4-byte UTF-8), case, digits, prefixes.
ODD = [
    "a",
    "A",
    "a-1",
    "a-10",
    "a-2",
    "Z",
    "zz",
    "é",
    "e",
    "日本",
    "😀",
    "\uffff",
    "~",
    "#",
    "a#1",
    "a#2",
    "0",
    "00",
    "acc.1",
    "ÄÖ",
    "ß",
    "ss",
] + [f"acc-{n:03d}" for n in range(40)]
OCTOBER = 1727740800000  # 2024-10-01T00:00Z; the clock stands at 2024-11-05T09:30Z
NOV5_08 = 1730793600000  # 2024-11-05T08:00Z (today for the clock)
FUTURE = 1731024000000  # 2024-11-08T00:00Z: future-dated for the clock


async def _engine(tmp_path: Path, clock: FixedClock, parts: int) -> tuple[Engine, str]:
    url = store_url("cassandra", tmp_path) + f"?rollup_parts={parts}"
    opened = open_store(parse_store_url(url))
    await opened.connect()
    await opened.apply_schema()
    return Engine(opened, clock=clock), url


@pytest.fixture
async def parted(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Engine]:
    engine, url = await _engine(tmp_path, clock, 5)
    yield engine
    await engine.close()
    JANITOR.drop(url)


def _doc(amount: str, when: int, payer: str, payee: str, txid: uuid.UUID | None = None) -> str:
    document = transfer(amount, when, debit=payer, credit=payee, transaction_id=txid or uuid.uuid4())
    return (
        document.replace('"test_uk"', f'"{ROLLUP[0]}"')
        .replace('"com.test.customer"', f'"{ROLLUP[1]}"')
        .replace('"current"', f'"{ROLLUP[2]}"')
    )


async def _pages(engine: Engine, size: int) -> list[str]:
    listed: list[str] = []
    token = None
    for _ in range(10_000):
        page = await engine.children(ROLLUP, size, token)
        assert len(page.items) <= size
        listed += page.items
        token = page.next_token
        if token is None:
            return listed
    raise AssertionError("never ended")


async def test_listing_a_rollup_in_parts_every_page_size_odd_names(parted: Engine) -> None:
    """Accounts with odd names over 5 parts: every page size lists each once, in the node's order."""
    rng = random.Random(5)
    for n in range(0, len(ODD), 2):
        await parted.post_json(_doc("1.00", OCTOBER + n * 60_000, ODD[n], ODD[n + 1]))
    expected = sorted(ODD, key=lambda s: s.encode())
    assert await parted.all_children(ROLLUP) == expected
    for size in [*range(1, 13), 19, 59, 60, 61, 200, rng.randrange(13, 59)]:
        assert await _pages(parted, size) == expected, size


async def test_repair_of_sets_claimed_without_rows_in_parts(parted: Engine, clock: FixedClock) -> None:
    """A write dies after log and claim (before any row): repair writes the tree, day activity and
    future_days rows where the first write would have, so listing, the rollup sealed in between,
    future-dated reads and verify all see them."""
    store = parted._store
    await parted.post_json(_doc("1.00", NOV5_08, "a", "b"))
    texts = [
        _doc("2.00", NOV5_08 + 60_000, "c", "日本"),
        _doc("3.00", FUTURE + 5 * 86_400_000, "😀", "d"),
        _doc("4.00", OCTOBER, "e", "f"),
    ]
    sets = [parse_entry_set_json(t, parted.currencies) for t in texts]
    recorded = [RecordedTransaction.of(s, clock.now) for s in sets]
    writer = store._writer  # type: ignore[attr-defined]
    key = await writer.log(recorded)
    shards = await store._claim_shards()  # type: ignore[attr-defined]
    for t in recorded:
        await writer._claim_batch((shard_of(t.transaction_id, shards), 0), [(t, key[2])])
    clock.advance(days=3)
    await parted.seal()  # seals 2024-11-05 without the crashed sets' rows
    report = await parted.repair()
    assert report.completed == 3
    assert await parted.all_children(ROLLUP) == sorted(
        ["a", "b", "c", "日本", "😀", "d", "e", "f"], key=str.encode
    )
    rollup = parse_pattern("/".join(ROLLUP) + "/*")
    (row,) = await parted.balance(rollup)
    assert row.debits == Decimal("10.00")
    (ahead,) = await parted.balance(rollup, TimeRange(from_epoch_ms(FUTURE), None))
    assert ahead.debits == Decimal("3.00")
    (today,) = await parted.balance(
        rollup, TimeRange(from_epoch_ms(NOV5_08), from_epoch_ms(NOV5_08 + 86_400_000))
    )
    assert today.debits == Decimal("3.00")
    verified = await parted.verify()
    assert verified.ok, verified.problems


async def test_a_capture_completed_by_repair_after_a_seal_keeps_blocks_exact(
    parted: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A capture whose write dies after its outcome claim (before its rows): the day is sealed,
    then repair writes the capture's rows. Like a set's repair (materialise(..., completed_at=now)),
    the rows must mark the day stale, or blocks keep the day without the capture."""
    acct = parse_address("/".join((*ROLLUP, "payer")))
    await parted.post_json(_doc("100.00", NOV5_08, "bank", "payer"))
    held = parse_entry_set_json(_doc("60.00", NOV5_08 + 3_600_000, "payer", "shop"), parted.currencies)
    placed = await parted.holds().place(held, expires_in=timedelta(days=6))

    async def died(self: CassandraHolds, *args: object, **kwargs: object) -> None:
        raise StoreUnavailable("the writer died after its outcome claim")

    with monkeypatch.context() as crash:
        crash.setattr(CassandraHolds, "_complete", died)
        with pytest.raises(StoreUnavailable):
            await parted.holds().capture(placed.hold.hold_id)
    clock.advance(days=3)
    await parted.seal()  # 2024-11-05 sealed: the capture's rows are not there yet
    await parted.repair()  # writes them
    entries = [e async for chunk in parted.iter_entries(acct) for e in chunk]
    assert sorted(e.amount for e in entries) == [Decimal("60.00"), Decimal("100.00")]  # rows are there
    full = await parted.balance(acct, TimeRange())  # blocks where they serve
    assert full[0].closing == Decimal("40.00"), full
    report = await parted.verify()
    assert report.ok, report.problems


def _settings_scanned_before(url: str, name: str, count: int) -> None:
    """Add ``count`` ledger settings that a full scan of ledger_settings (token order) returns
    before ``name`` (API keys and feed cursors are settings too: a busy server has many)."""
    from cassandra.cluster import Cluster
    from cassandra.concurrent import execute_concurrent_with_args
    from cassandra.murmur3 import murmur3

    limit = murmur3(name.encode())
    names: list[tuple[str, str]] = []
    n = 0
    while len(names) < count:
        candidate = f"api_key:filler-{n}"
        if murmur3(candidate.encode()) < limit:
            names.append((candidate, "{}"))
        n += 1
    parsed = parse_store_url(url)
    cluster = Cluster(list(parsed.hosts), port=parsed.port, protocol_version=5)  # type: ignore[union-attr]
    try:
        session = cluster.connect()
        insert = session.prepare(f"INSERT INTO {parsed.keyspace}.ledger_settings (name, value) VALUES (?, ?)")  # type: ignore[union-attr]
        execute_concurrent_with_args(session, insert, names, concurrency=64, raise_on_first_error=True)
    finally:
        cluster.shutdown()


async def test_repair_from_another_process_finds_windows_when_the_ledger_has_many_settings(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger with more settings than a page (API keys and feed cursors are settings): a process
    that never wrote learns where the claim windows start from every page of them, so its change
    feed and its repair find what was written."""
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))
    engine, url = await _engine(tmp_path, clock, 1)
    try:
        first = await engine.post_json(_doc("1.00", NOV5_08, "a", "b"))  # notes claim_windows_from
        _settings_scanned_before(url, "claim_windows_from", 1000)
        other = open_store(parse_store_url(url))  # a publisher, or `ledger-tui repair` from cron
        await other.connect()
        try:
            await asyncio.sleep(1.5)  # past the feed's settle time
            feed = await Engine(other).changes().page(None)  # the wall clock: log rows are by it
            events = [c.transaction.transaction_id for c in feed.changes]
            store = engine._store
            document = _doc("2.00", NOV5_08, "c", "d")
            crashed = [RecordedTransaction.of(parse_entry_set_json(document, engine.currencies), clock.now)]
            writer = store._writer  # type: ignore[attr-defined]
            key = await writer.log(crashed)  # a write that dies after its claim
            shards = await store._claim_shards()  # type: ignore[attr-defined]
            await writer._claim_batch(
                (shard_of(crashed[0].transaction_id, shards), 0), [(crashed[0], key[2])]
            )
            assert len(await other.read_settings()) > 1000
            unfinished = await other.unfinished_claims()
            symptoms = {"feed_events": events, "unfinished": unfinished}
            assert first.transaction.transaction_id in events, symptoms
            assert crashed[0].transaction_id in unfinished, symptoms
            repairer = Engine(other, clock=clock)
            report = await repairer.repair()
            assert report.completed == 1, report
            verified = await repairer.verify(repair=False)
            assert verified.ok, verified.problems
        finally:
            await other.close()
    finally:
        await engine.close()
        JANITOR.drop(url)
