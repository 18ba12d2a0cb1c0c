"""``*`` at any level of an address: on both stores, the fast path (tree walk to rollup prefixes,
blocks where sealed) equals a plain fold of the entries of every account the pattern matches,
for balances, series and as-of reads, to the last digit."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import WILDCARD, AddressPattern
from ledger_tui.domain.balance import BalanceFold, SeriesFold
from ledger_tui.domain.model import Address, Entry, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import Granularity, TimeRange, periods
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.url import parse_store_url

from ..support.stores import FixedClock, store_url

T0 = datetime(2024, 3, 10, 9, tzinfo=UTC)
#: The values each level holds (a nonexistent value is added to the choices of every level).
LEVELS = (["le_a", "le_b"], ["ns.x", "ns.y"], ["cur", "sav"], ["GBP", "EUR"], ["a1", "a2"])
ACCOUNTS = [
    Address(le, ns, name, cur, acct)
    for le in LEVELS[0]
    for ns in LEVELS[1]
    for name in LEVELS[2]
    for cur in LEVELS[3]
    for acct in LEVELS[4]
    if not (le == "le_b" and ns == "ns.y" and name == "sav")  # a hole in the tree
]

part = [st.sampled_from([WILDCARD, *values, "none"]) for values in LEVELS]
patterns = st.builds(AddressPattern, *part)
moments = st.integers(-24 * 40, 24 * 40).map(lambda hours: T0 + timedelta(hours=hours, minutes=7))


async def build(url: str) -> tuple[Engine, FixedClock]:
    """A ledger over the tree above: back-dated posts, seals between them, a late entry."""
    clock = FixedClock(T0)
    store = open_store(parse_store_url(url))
    await store.connect()
    engine = Engine(store, clock=clock, seal_margin=timedelta(minutes=1))
    await engine.apply_schema()
    engine.named_balances = {}
    rng = random.Random(9)
    for step in range(60):
        debit = rng.choice(ACCOUNTS)
        credit = rng.choice([a for a in ACCOUNTS if a.currency == debit.currency and a != debit])
        when = clock.now - timedelta(hours=rng.randrange(0, 24 * 30))
        amount = Decimal(rng.randrange(1, 10**6)).scaleb(-2)
        legs = [Leg(debit, Side.DEBIT, amount, "", when), Leg(credit, Side.CREDIT, amount, "", when)]
        await engine.post(build_entry_set(uuid.uuid4(), legs))
        clock.advance(hours=rng.randrange(1, 30))
        if step % 15 == 14:
            await engine.seal()
    await engine.seal()
    return engine, clock


async def plain(engine: Engine, pattern: AddressPattern, as_of: datetime | None) -> list[Entry]:
    """Every entry of every account the pattern matches, read without blocks."""
    rows: list[Entry] = []
    for account in await engine.accounts():
        if pattern.matches(account):
            async for chunk in engine.iter_entries(account):
                rows.extend(e for e in chunk if as_of is None or e.recorded_at <= as_of)
    return rows


async def check(
    engine: Engine, pattern: AddressPattern, start: datetime, end: datetime, as_of: datetime | None
) -> None:
    start, end = min(start, end), max(start, end)
    time_range = TimeRange(start, end)
    entries = await plain(engine, pattern, as_of)
    expected = BalanceFold(start, end)
    expected.add_all(entries)
    got = await engine.balance(pattern, time_range, as_of)
    assert [r.to_json() for r in got] == [r.to_json() for r in expected.result()], (
        pattern,
        time_range,
        as_of,
    )
    if start < end:
        spans = periods(time_range, Granularity.DAY)
        series = SeriesFold(spans)
        for entry in entries:
            series.add_entry(entry)
        assert await engine.balance_series(pattern, time_range, Granularity.DAY, as_of) == series.result()


@pytest.mark.parametrize(
    "store_kind",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("cassandra", id="cassandra", marks=pytest.mark.cassandra),
    ],
)
def test_a_wildcard_at_any_level_equals_a_plain_fold(
    store_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = store_url(store_kind, tmp_path_factory.mktemp("wildcards"))
    loop = asyncio.new_event_loop()
    engine, _ = loop.run_until_complete(build(url))
    try:
        everything = AddressPattern(*[WILDCARD] * 5)
        assert {a.as_tuple() for a in loop.run_until_complete(engine.accounts())} <= {
            a.as_tuple() for a in ACCOUNTS
        }
        loop.run_until_complete(
            check(engine, everything, T0 - timedelta(days=40), T0 + timedelta(days=40), None)
        )

        @settings(
            max_examples=40 if store_kind == "sqlite" else 20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(pattern=patterns, start=moments, end=moments, as_of=st.one_of(st.none(), moments))
        def each(pattern: AddressPattern, start: datetime, end: datetime, as_of: datetime | None) -> None:
            loop.run_until_complete(check(engine, pattern, start, end, as_of))

        each()
    finally:
        loop.run_until_complete(engine.close())
        loop.close()
