"""The Cassandra change feed's walk against the obvious model: every row that is ever done is
delivered, settled pages never repeat one, and a cursor survives its own text."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.errors import ValidationError
from ledger_tui.store.cassandra.feed import (
    MAX_WAITING,
    FeedCursor,
    LogKey,
    LogRow,
    batch_id_at,
    batch_id_of,
    ticks_of,
    time_of,
    walk,
)

DEADLINE = 50  # steps a row may take to become visible after its time
ORIGIN = ticks_of(datetime(2026, 1, 1, tzinfo=UTC))


def step(ticks: int) -> int:
    """A model time step as batch-id ticks (ten ticks a microsecond: time_of keeps them)."""
    return ORIGIN + ticks * 10


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, int, int, int | None]]:
    """(ticks, batch, visible at, done at or None) per log row."""
    rows = []
    count = draw(st.integers(0, 40))
    # batch ids are unique (62 random bits each): draw distinct bits
    for bits in draw(st.lists(st.integers(0, 2**62 - 1), min_size=count, max_size=count, unique=True)):
        ticks = draw(st.integers(1, 1000))
        batch = batch_id_of(step(ticks), bits).int
        visible = ticks + draw(st.integers(0, DEADLINE))
        done = draw(st.one_of(st.none(), st.integers(visible, visible + 300)))
        rows.append((ticks, batch, visible, done))
    return rows


def seen_at(history: list[tuple[int, int, int, int | None]], now: int) -> list[LogRow]:
    return [
        LogRow(
            LogKey.of(0, 0, uuid.UUID(int=batch)), (uuid.UUID(int=batch),), done is not None and done <= now
        )
        for ticks, batch, visible, done in history
        if visible <= now
    ]


@settings(max_examples=300, deadline=None)
@given(
    histories(),
    st.lists(st.integers(0, 1500), min_size=1, max_size=12),
    st.integers(1, 6),
    st.booleans(),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_every_done_row_is_delivered_once(
    history: list[tuple[int, int, int, int | None]],
    reads: list[int],
    limit: int,
    fresh: bool,
    capped: bool,
    rng: random.Random,
) -> None:
    """Settled pages (pollers) and fresh ones fed their tokens back (followers) deliver every row
    that is ever done, none twice; a page cut short by the reader (``capped``) may repeat a fresh
    one, never skip one."""
    cursor = FeedCursor()
    tokens: frozenset[int] | None = frozenset() if fresh else None
    delivered: list[int] = []
    for now in [*sorted(reads), 10_000, 10_001, *range(10_002, 10_002 + 50)]:
        rows = seen_at(history, now)
        settled = step(now - DEADLINE)
        cut = capped and now < 10_000
        read_through = max(cursor.after[0], step(rng.randint(0, now + 5))) if cut else 1 << 62
        shown = [r for r in rows if r.key.ticks <= read_through]
        state = {r.key: r for r in rows}
        passed = walk(cursor, state, shown, settled, read_through, limit, tokens)
        delivered += [delivery.row.key.batch for delivery in passed.deliveries]
        assert len(passed.cursor.waiting) <= MAX_WAITING
        assert all(key.position <= passed.cursor.after for key in passed.cursor.waiting)
        cursor = FeedCursor.decode(passed.cursor.encode())
        tokens = passed.fresh if fresh else None
    ever_done = {batch for _t, batch, _v, done in history if done is not None}
    assert set(delivered) == ever_done
    if not (fresh and capped):
        assert len(delivered) == len(set(delivered)), "a row was delivered twice"


def test_a_fresh_row_is_delivered_before_it_settles_and_the_cursor_stays_behind_it() -> None:
    row = LogRow(LogKey(step(900), 7, 0, 0), (uuid.UUID(int=7),), True)
    passed = walk(
        FeedCursor(), {}, [row], settled=step(800), read_through=1 << 62, limit=10, fresh=frozenset()
    )
    assert [d.row for d in passed.deliveries] == [row]
    assert passed.cursor.after < row.key.position
    settled_only = walk(
        FeedCursor(), {}, [row], settled=step(800), read_through=1 << 62, limit=10, fresh=None
    )
    assert settled_only.deliveries == []


def test_a_row_not_done_waits_in_the_cursor_and_is_delivered_once_done() -> None:
    pending_id, later_id = batch_id_at(time_of(step(100))), batch_id_at(time_of(step(200)))
    pending = LogRow(LogKey.of(3, 2, pending_id), (uuid.UUID(int=5),), False)
    later = LogRow(LogKey.of(3, 4, later_id), (uuid.UUID(int=6),), True)
    first = walk(
        FeedCursor(), {}, [pending, later], settled=step(500), read_through=1 << 62, limit=10, fresh=None
    )
    assert [d.row for d in first.deliveries] == [later]
    assert first.cursor.waiting == (pending.key,)
    again = FeedCursor.decode(first.cursor.encode())
    assert again == first.cursor
    finished = LogRow(pending.key, pending.ids, True)
    second = walk(
        again, {pending.key: finished}, [], settled=step(600), read_through=1 << 62, limit=10, fresh=None
    )
    assert [d.row for d in second.deliveries] == [finished]
    assert second.cursor.waiting == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "s1-5",
        "c1-",
        "c1-zz-" + "0" * 32,
        "c1-1-" + "0" * 32 + "-w1.9." + "0" * 32,
        "c1-1-" + "0" * 32 + "x",
        "c1-ffffffffffffffff-" + "0" * 32,  # a time past year 9999
        "c1-1-" + "0" * 32 + "-wffffffffffffffff.7." + "f" * 32,  # a window past year 9999
        "c1-1-" + "0" * 32 + "-wffffffffffffffff.7.ffffffffffff1fffbfffffffffffffff",  # with a time-based id
    ],
)
def test_a_cursor_it_did_not_issue_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        FeedCursor.decode(text)
    assert refused.value.problems[0].field == "cursor"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_batch_ids_carry_their_time(moment: datetime) -> None:
    instant = moment.replace(tzinfo=UTC)
    batch = batch_id_at(instant)
    assert batch.version == 1
    assert batch.time == ticks_of(instant)
    assert time_of(batch.time) == instant


def test_a_given_row_a_page_stops_short_of_stays_given() -> None:
    """A follower was given row R while fresh; the next page stops at its limit before reaching R
    (an older row A showed up late, within the deadline): R must not be given again later."""
    older, fresh = batch_id_of(step(100), 1), batch_id_of(step(200), 2)
    row_a = LogRow(LogKey.of(0, 0, older), (uuid.UUID(int=1),), True)
    row_r = LogRow(LogKey.of(0, 0, fresh), (uuid.UUID(int=2),), True)
    first = walk(
        FeedCursor(), {}, [row_r], settled=step(50), read_through=1 << 62, limit=1, fresh=frozenset()
    )
    assert [d.row for d in first.deliveries] == [row_r] and first.fresh == {row_r.key.batch}
    second = walk(first.cursor, {}, [row_a, row_r], step(300), 1 << 62, 1, fresh=first.fresh)
    assert [d.row for d in second.deliveries] == [row_a] and second.more
    third = walk(second.cursor, {}, [row_a, row_r], step(300), 1 << 62, 1, fresh=second.fresh)
    assert third.deliveries == [] and not third.more
