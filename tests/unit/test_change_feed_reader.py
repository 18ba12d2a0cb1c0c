"""The Cassandra change feed's reader (``_walk``/``page``), a follower over it and repair beside a
write, on a fake claim log (no node): windows, slots, done marks and claims held in memory."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.blocks import SealPolicy
from ledger_tui.domain.claims import window_of, window_start
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.engine.changes import ChangeFeed, FollowOptions
from ledger_tui.store.cassandra import changes as changes_module
from ledger_tui.store.cassandra import repair as repair_module
from ledger_tui.store.cassandra import windows as windows_module
from ledger_tui.store.cassandra.changes import ChangeReader
from ledger_tui.store.cassandra.feed import LogRow, batch_id_at
from ledger_tui.store.cassandra.repair import ClaimRepair
from ledger_tui.store.cassandra.windows import FROM_SETTING, WINDOWS_PER_PART, WindowIndex, part_of
from ledger_tui.store.cassandra.writes import RESERVATION_GRACE


def _cassandra_order(batch: uuid.UUID) -> tuple[int, int, int]:
    """UUIDType's order of version 1 ids: version, time, then the low 64 bits unsigned."""
    return (
        batch.version or 0,
        batch.time if batch.version == 1 else batch.int >> 64,
        batch.int & (2**64 - 1),
    )


@dataclass
class _Bound:
    name: str
    parameters: tuple[Any, ...]
    fetch_size: int | None = 5000


@dataclass
class _Statement:
    name: str

    def bind(self, parameters: tuple[Any, ...]) -> _Bound:
        return _Bound(self.name, tuple(parameters))


@dataclass
class _Result:
    rows: list[Any]


@dataclass
class FakeLog:
    """The claim log, its window index and the claims' owners (``claimed_by``), in memory."""

    log: dict[tuple[int, int], dict[uuid.UUID, list[Any]]] = field(default_factory=lambda: defaultdict(dict))
    windows: set[int] = field(default_factory=set)
    claimed_by: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    def write(self, at: datetime, ids: list[uuid.UUID], *, done: bool = True, slot: int = 0) -> uuid.UUID:
        batch = batch_id_at(at)
        window = window_of(at)
        self.log[(window, slot)][batch] = [ids, done]
        self.windows.add(window)
        for txid in ids:
            self.claimed_by.setdefault(txid, batch)
        return batch

    async def statement(self, name: str) -> _Statement:
        return _Statement(name)

    async def execute(self, statement: Any, parameters: tuple[Any, ...] | None = None) -> _Result:
        if isinstance(statement, _Bound):
            name, parameters = statement.name, statement.parameters
        else:
            name = statement.name
        assert parameters is not None
        if name == "claim_windows":
            part, first = parameters
            return _Result([(w,) for w in sorted(self.windows) if part_of(w) == part and w >= first])
        if name in ("claim_log", "claim_log_after", "claim_log_row"):
            window, slot = parameters[0], parameters[1]
            rows = sorted(self.log[(window, slot)].items(), key=lambda item: _cassandra_order(item[0]))
            if name == "claim_log_after":
                rows = [r for r in rows if _cassandra_order(r[0]) > _cassandra_order(parameters[2])]
            if name == "claim_log_row":
                rows = [r for r in rows if r[0] == parameters[2]]
            return _Result([(batch, tuple(ids), done, None) for batch, (ids, done) in rows])
        raise AssertionError(f"unexpected statement {name}")

    async def settings(self) -> dict[str, str]:
        return {FROM_SETTING: str(min(part_of(w) for w in self.windows))} if self.windows else {}

    async def keep(self, name: str, value: str) -> str:
        return value

    def reader(self) -> ChangeReader:
        index = WindowIndex(self.execute, self.statement, self.settings, self.keep)

        async def shards() -> int:
            return 1

        async def holds(ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
            return {}

        reader = ChangeReader(self.execute, self.statement, shards, holds, index)

        async def claimed(row: LogRow) -> list[tuple[RecordedTransaction, None]]:
            at = datetime(2026, 1, 1, tzinfo=UTC)
            return [
                (RecordedTransaction(txid, (), "h", at), None)
                for txid in row.ids
                if self.claimed_by.get(txid) == row.key.batch_id
            ]

        reader._claimed = claimed  # type: ignore[method-assign,assignment]
        return reader


class _Clock:
    """``datetime`` for the modules under test, its ``now`` set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now_is = now
        outer = self

        class Moment(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return outer.now_is

        self.type = Moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    made = _Clock(datetime(2026, 12, 7, 15, 0, 3, tzinfo=UTC))  # 3 s after a window's edge
    for module in (changes_module, windows_module, repair_module):
        monkeypatch.setattr(module, "datetime", made.type)
    return made


class _ReaderStore:
    """Just what ChangeFeed.follow reads."""

    def __init__(self, reader: ChangeReader) -> None:
        self._reader = reader

    async def read_changes(self, cursor: str | None, limit: int, fresh: frozenset[str] | None = None) -> Any:
        return await self._reader.page(cursor, max(1, limit), fresh)


async def _follow_until_idle(
    reader: ChangeReader, cursor: str | None, limit: int
) -> tuple[list[uuid.UUID], str]:
    feed = ChangeFeed(_ReaderStore(reader))  # type: ignore[arg-type]
    given: list[uuid.UUID] = []
    last = cursor
    async for page in feed.follow(cursor, FollowOptions(poll=0, limit=limit, stop_when_idle=True)):
        given += [c.transaction.transaction_id for c in page.changes]
        last = page.cursor
    return given, last or ""


def test_a_follower_that_stops_when_idle_has_read_every_done_row(clock: _Clock) -> None:
    """A busy window just before the current one: more than a page of ids logged in its last
    seconds, not settled yet. A done row of the current window is still read and given, so
    ``stop_when_idle`` (publish --stop-when-idle, one-shot ``changes``) never ends without it."""
    now = clock.now_is
    edge = window_start(window_of(now))
    assert now - edge < timedelta(seconds=10)
    fake = FakeLog()
    old = [uuid.uuid4() for _ in range(5)]
    fake.write(edge - timedelta(minutes=5), old)
    burst = [uuid.uuid4() for _ in range(1200)]
    for n in range(0, 1200, 100):  # twelve writes of 100 sets in the last 5 s of the window before
        fake.write(edge - timedelta(seconds=5) + timedelta(milliseconds=n), burst[n : n + 100], slot=n % 8)
    latest = uuid.uuid4()
    fake.write(edge + timedelta(seconds=1), [latest], slot=3)  # done, in the current window
    given, cursor = asyncio.run(_follow_until_idle(fake.reader(), None, 1000))
    assert set(given) == set(old) | set(burst) | {latest} and len(given) == len(set(given))
    clock.now_is = now + timedelta(seconds=10)  # once all settled, a rerun from its cursor repeats
    again, _ = asyncio.run(_follow_until_idle(fake.reader(), cursor, 1000))  # only unsettled ones
    assert set(again) <= set(burst) | {latest}


# -- a model over several windows (and a 31-day part's edge) -------------------------------------


PART_EDGE = window_start(
    part_of(window_of(datetime(2026, 12, 7, tzinfo=UTC))) * WINDOWS_PER_PART + WINDOWS_PER_PART
)


@dataclass
class TimedLog(FakeLog):
    """A claim log whose rows become visible, and done, at times of their own."""

    clock: _Clock | None = None
    timing: dict[uuid.UUID, tuple[datetime, datetime | None]] = field(default_factory=dict)

    def add(
        self, at: datetime, ids: list[uuid.UUID], visible: datetime, done: datetime | None, slot: int
    ) -> None:
        batch = self.write(at, ids, slot=slot)
        self.timing[batch] = (visible, done)

    async def execute(self, statement: Any, parameters: tuple[Any, ...] | None = None) -> _Result:
        assert self.clock is not None
        now = self.clock.now_is
        result = await super().execute(statement, parameters)
        name = statement.name
        if name.startswith("claim_log"):
            rows = []
            for batch, ids, _done, settles in result.rows:
                visible, done = self.timing[batch]
                if visible <= now:
                    rows.append((batch, ids, done is not None and done <= now, settles))
            return _Result(rows)
        if name == "claim_windows":  # a window is listed with its first row (noted with the log write)
            seen = {
                window
                for (window, _slot), batches in self.log.items()
                for batch in batches
                if self.timing[batch][0] <= now
            }
            return _Result([row for row in result.rows if row[0] in seen])
        return result


@st.composite
def timed_rows(draw: st.DrawFn) -> list[tuple[float, int, float, float | None, int]]:
    """(seconds from the start, ids, visible after, done after or None, slot) per log row."""
    edges = [0.0, 600.0, 1200.0]  # three window edges, the first one a part's edge too
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        edge = draw(st.sampled_from(edges))
        at = edge + draw(st.floats(-15, 15))
        size = draw(st.sampled_from([1, 3, 40, 400]))
        visible = draw(st.floats(0, 4.9))
        done = draw(st.one_of(st.none(), st.floats(0, 30)))
        rows.append((at, size, visible, done, draw(st.integers(0, 7))))
    return rows


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    timed_rows(),
    st.lists(st.floats(-20, 1260), min_size=1, max_size=40),
    st.integers(1, 600),
    st.sampled_from(["follower", "settled", "restarts"]),
    st.integers(2, 200),
    st.randoms(use_true_random=False),
)
def test_model_every_done_set_is_delivered_and_a_run_gives_it_once(
    history: list[tuple[float, int, float, float | None, int]],
    reads: list[float],
    limit: int,
    mode: str,
    max_rows: int,
    rng: Any,
) -> None:
    monkey = pytest.MonkeyPatch()
    clock = _Clock(PART_EDGE)
    monkey.setattr(changes_module, "datetime", clock.type)
    monkey.setattr(windows_module, "datetime", clock.type)
    monkey.setattr(changes_module, "MAX_ROWS", max_rows)
    try:
        fake = TimedLog(clock=clock)
        ever_done: set[uuid.UUID] = set()
        for at, size, visible, done, slot in history:
            start = PART_EDGE + timedelta(seconds=at)
            ids = [uuid.uuid4() for _ in range(size)]
            fake.add(
                start,
                ids,
                start + timedelta(seconds=visible),
                None if done is None else start + timedelta(seconds=visible + done),
                slot,
            )
            if done is not None:
                ever_done |= set(ids)
        reader = fake.reader()
        cursor: str | None = None
        fresh: frozenset[str] | None = None if mode == "settled" else frozenset()
        given_run: set[uuid.UUID] = set()
        delivered: list[uuid.UUID] = []
        run_repeats: list[uuid.UUID] = []
        times = sorted(reads) + [1300 + n for n in range(0, 200, 2)]
        for second in times:
            clock.now_is = PART_EDGE + timedelta(seconds=second)
            for _ in range(50):
                page = asyncio.run(reader.page(cursor, limit, fresh))
                ids = [c.transaction.transaction_id for c in page.changes]
                delivered += ids
                run_repeats += [txid for txid in ids if txid in given_run]
                given_run |= set(ids)
                cursor = page.cursor
                if fresh is not None:
                    fresh = page.fresh
                if mode == "restarts" and rng.random() < 0.2:  # kill -9: resume at the page's cursor
                    fresh, given_run = frozenset(), set()
                if not page.more:
                    break
        missing = ever_done - set(delivered)
        assert not missing, f"{len(missing)} done sets never delivered"
        if mode == "settled":
            assert len(delivered) == len(set(delivered)), "a settled reader was given a set twice"
    finally:
        monkey.undo()


# -- repair beside a write in flight ------------------------------------------------------------


class _RepairLog(FakeLog):
    """The fake log, also answering repair's reads and its done marks."""

    async def execute(self, statement: Any, parameters: tuple[Any, ...] | None = None) -> _Result:
        name = statement.name
        if name == "claim_log_heads":
            window, slot = statement.parameters
            return _Result(
                [
                    (batch, tuple(ids), done, None, None)
                    for batch, (ids, done) in self.log[(window, slot)].items()
                ]
            )
        if name == "log_done":
            assert parameters is not None
            window, slot, batch = parameters
            self.log[(window, slot)][batch][1] = True
            return _Result([])
        return await super().execute(statement, parameters)


class _Writer:
    """What repair asks of the writer: nothing claimed yet under the ids it reads."""

    def __init__(self, fake: FakeLog) -> None:
        self._fake = fake
        self.repair_settles = None

        class Rows:
            async def write(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.rows = Rows()

    async def settle(self) -> None:
        return None

    async def claims(self, shard: int, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        return {
            txid: (RecordedTransaction(txid, (), "h", at), self._fake.claimed_by[txid])
            for txid in ids
            if txid in self._fake.claimed_by
        }


def test_repair_beside_a_write_between_its_log_row_and_its_claims_leaves_the_row_to_it(
    clock: _Clock,
) -> None:
    """The log row is written (not done), then the claims. Repair run meanwhile (verify, an import
    starting elsewhere) must not mark the row done while its write may still claim under it:
    the feed would pass the row as empty, and the set claimed under it later would never be told.
    Once the row is older than any claim attempt can start, repair marks it done."""
    fake = _RepairLog()
    reader = fake.reader()
    index = WindowIndex(fake.execute, fake.statement, fake.settings, fake.keep)

    async def shards() -> int:
        return 1

    repair = ClaimRepair(_Writer(fake), fake.execute, fake.statement, shards, index, None)  # type: ignore[arg-type]
    start = clock.now_is
    txid, never = uuid.uuid4(), uuid.uuid4()
    batch = fake.write(start, [txid], done=False)  # the write logged its ids ...
    del fake.claimed_by[txid]  # ... and has not claimed them yet
    dead = fake.write(start + timedelta(milliseconds=5), [never], done=False)  # one that died
    del fake.claimed_by[never]
    report = asyncio.run(repair.repair(SealPolicy(), start, window_of(start) - 2))
    assert (report.unfinished, report.batches) == (2, 0)  # both left: their writes may claim
    clock.now_is = start + timedelta(seconds=11)
    page = asyncio.run(reader.page(None, 1000, None))
    assert page.changes == []
    fake.claimed_by[txid] = batch  # the write's claim round lands, under its own row
    fake.log[(window_of(start), 0)][batch][1] = True  # and it marks its row done
    clock.now_is = start + timedelta(seconds=30)
    again = asyncio.run(reader.page(page.cursor, 1000, None))  # a poller or a publisher resuming
    assert [c.transaction.transaction_id for c in again.changes] == [txid]
    clock.now_is = start + RESERVATION_GRACE + timedelta(seconds=1)
    report = asyncio.run(repair.repair(SealPolicy(), clock.now_is, window_of(start) - 2))
    assert (report.unfinished, report.batches, report.completed) == (1, 1, 0)  # the dead one, done now
    assert fake.log[(window_of(start), 0)][dead][1]
