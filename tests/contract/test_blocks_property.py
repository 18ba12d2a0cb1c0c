"""Blocks never change an answer: on both stores, for random ledgers (back-dated and future-dated
posts, seals before, between and after them, late entries, bursts of concurrent writers with seal
runs among them), every balance, series and as-of read equals a plain fold of the entries, to the
last digit.

``LEDGER_BLOCKS_EXAMPLES=N`` (read at import) runs N examples per store instead of the short
default (``make test-blocks``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import AddressPattern
from ledger_tui.domain.balance import BalanceFold, SeriesFold
from ledger_tui.domain.model import Address, Entry, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import Granularity, TimeRange, periods
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.url import parse_store_url

from ..support.stores import FixedClock, store_url

EXAMPLES = int(os.environ.get("LEDGER_BLOCKS_EXAMPLES", "0"))
T0 = datetime(2024, 3, 10, 9, tzinfo=UTC)
MARGIN = timedelta(minutes=1)
ACCOUNTS = ["a", "b", "c"]
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Post:
    """Post ``units`` minor units from ``debit`` to ``credit``, effective ``offset`` hours from now."""

    debit: str
    credit: str
    units: int
    offset: int
    advance: int  # hours the clock moves on afterwards


@dataclass(frozen=True)
class Seal:
    """Seal, then let ``advance`` hours pass."""

    advance: int


@dataclass(frozen=True)
class Burst:
    """Writers posting at once, and ``seals`` seal runs started among them.

    Each writer yields to the event loop ``pauses`` times before each post and moves the shared
    clock on by the post's ``advance`` seconds; a burst moves it less than the seal margin in all,
    as the writers'-clock assumption requires (its edge: tests/contract/test_writers_clock.py).
    """

    writers: tuple[tuple[tuple[Post, int], ...], ...]
    seals: tuple[int, ...]  # event-loop yields before each seal run starts


@dataclass(frozen=True)
class Query:
    """One read: a range, an as-of instant, a series granularity and a target."""

    start: datetime | None
    end: datetime | None
    as_of: datetime | None
    granularity: Granularity
    target: str


post_op = st.builds(
    Post,
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ACCOUNTS),
    st.integers(1, 10**7),
    st.integers(-24 * 50, 24 * 8),  # effective time relative to the clock: back-dated up to 50 days
    st.integers(0, 24 * 3),
)
seal_op = st.builds(Seal, st.integers(0, 24 * 5))
burst_post = st.builds(
    Post,
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ACCOUNTS),
    st.integers(1, 10**7),
    st.integers(-24 * 50, 24 * 8),
    st.integers(0, 3),  # seconds: 4 writers x 3 posts x (3 + 1) s = 48 s, below the 60 s margin
)
writer_ops = st.lists(st.tuples(burst_post, st.integers(0, 3)), min_size=1, max_size=3).map(tuple)
burst_op = st.builds(
    Burst,
    st.lists(writer_ops, min_size=2, max_size=4).map(tuple),
    st.lists(st.integers(0, 6), max_size=2).map(tuple),
)
operations = st.lists(st.one_of(post_op, post_op, post_op, seal_op, burst_op), min_size=1, max_size=25)
moment = st.integers(-24 * 60, 24 * 90).map(lambda hours: T0 + hours * HOUR + timedelta(minutes=7))
query = st.builds(
    Query,
    st.one_of(st.none(), moment),
    st.one_of(st.none(), moment),
    st.one_of(st.none(), moment),
    st.sampled_from(list(Granularity)),
    st.sampled_from(["a", "b", "*", "named"]),
)


def address(entity: str, account: str) -> Address:
    return Address(entity, "com.test", "current", "GBP", account)


async def plain(engine: Engine, entity: str, accounts: list[str], as_of: datetime | None) -> list[Entry]:
    """Every entry of the accounts, read page by page without blocks, filtered by recorded time."""
    rows: list[Entry] = []
    for account in accounts:
        async for chunk in engine.iter_entries(address(entity, account)):
            rows.extend(e for e in chunk if as_of is None or e.recorded_at <= as_of)
    return rows


async def post_one(engine: Engine, entity: str, clock: FixedClock, op: Post) -> None:
    """Post ``op`` effective ``op.offset`` hours from the clock's now (a no-op from an account to itself)."""
    if op.debit == op.credit:
        return
    when = clock.now + op.offset * HOUR
    amount = Decimal(op.units).scaleb(-2)
    legs = [
        Leg(address(entity, op.debit), Side.DEBIT, amount, "", when),
        Leg(address(entity, op.credit), Side.CREDIT, amount, "", when),
    ]
    await engine.post(build_entry_set(uuid.uuid4(), legs))


async def burst(engine: Engine, entity: str, clock: FixedClock, op: Burst) -> None:
    """Every writer and seal run of ``op`` at once."""

    async def write(posts: tuple[tuple[Post, int], ...]) -> None:
        for post, pauses in posts:
            for _ in range(pauses):
                await asyncio.sleep(0)
            clock.advance(seconds=post.advance + 1)
            await post_one(engine, entity, clock, post)

    async def seal(pauses: int) -> None:
        for _ in range(pauses):
            await asyncio.sleep(0)
        await engine.seal()

    await asyncio.gather(*(write(posts) for posts in op.writers), *(seal(p) for p in op.seals))


async def run_example(url: str, ops: list[Post | Seal | Burst], queries: list[Query]) -> None:
    entity = f"le_{uuid.uuid4().hex[:8]}"  # examples share a keyspace; every one has its own accounts
    clock = FixedClock(T0)
    store = open_store(parse_store_url(url))
    await store.connect()
    try:
        engine = Engine(store, clock=clock, seal_margin=MARGIN)
        await engine.apply_schema()
        prefix = (entity, "com.test", "current", "GBP")
        engine.named_balances = {}
        for op in ops:
            if isinstance(op, Seal):
                await engine.seal()
                clock.advance(hours=op.advance)
            elif isinstance(op, Burst):
                await burst(engine, entity, clock, op)
                clock.advance(minutes=1)
            else:
                await post_one(engine, entity, clock, op)
                clock.advance(hours=op.advance, seconds=1)
        await engine.seal()
        for q in queries:
            start, end = q.start, q.end
            if start is not None and end is not None and end < start:
                start, end = end, start
            time_range = TimeRange(start, end)
            as_of_time, target_name = q.as_of, q.target
            if target_name == "*":
                target: Address | AddressPattern | str = AddressPattern(*prefix, "*")
                accounts = ACCOUNTS
            elif target_name == "named":
                from ledger_tui.domain.named import NamedBalance

                engine.named_balances = {
                    "n": NamedBalance("n", "", (AddressPattern(*prefix, "*"), AddressPattern(*prefix, "a")))
                }
                target, accounts = "n", ACCOUNTS
            else:
                target, accounts = address(entity, target_name), [target_name]
            entries = await plain(engine, entity, accounts, as_of_time)
            expected = BalanceFold(time_range.start, time_range.end)
            expected.add_all(entries)
            want = [r.to_json() for r in expected.result()]
            got = await engine.balance(target, time_range, as_of_time)
            assert [r.to_json() for r in got] == want, (time_range, as_of_time)
            full = await engine.full_fold().balance(target, time_range, as_of_time)
            assert [r.to_json() for r in full] == want, (time_range, as_of_time)
            if start is not None and end is not None and start < end:
                spans = periods(time_range, q.granularity)
                if len(spans) <= 200:
                    series = SeriesFold(spans)
                    for entry in entries:
                        series.add_entry(entry)
                    got_series = await engine.balance_series(target, time_range, q.granularity, as_of_time)
                    assert got_series == series.result()
        report = await engine.verify()
        assert report.ok, report.problems
    finally:
        await store.close()


@pytest.mark.parametrize(
    "store_kind",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("cassandra", id="cassandra", marks=pytest.mark.cassandra),
    ],
)
def test_fast_balances_equal_a_plain_fold(store_kind: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    url = store_url(store_kind, tmp_path_factory.mktemp("blocks"))
    examples = EXAMPLES or (40 if store_kind == "sqlite" else 10)

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(ops=operations, queries=st.lists(query, min_size=1, max_size=6))
    def check(ops: list[Post | Seal | Burst], queries: list[Query]) -> None:
        asyncio.run(run_example(url, ops, queries))

    check()
