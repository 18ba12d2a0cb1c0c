"""The change feed on both stores: every committed set once (after dropping repeated event ids),
retries and conflicts add no event, cursors resume without skipping, and a publisher's named
cursor is moved by one writer at a time."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from ledger_tui.domain.changes import ChangeType
from ledger_tui.domain.errors import ConflictingResubmission, LedgerError, ValidationError
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.engine.changes import FollowOptions
from ledger_tui.store.base import Store

from ..support.entry_sets import transfer

WRITERS = 20
SETS_EACH = 15


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local writes are acknowledged in milliseconds: settle after one second, not ten."""
    from datetime import timedelta

    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))


async def drain(engine: Engine, cursor: str | None) -> list[tuple[uuid.UUID, str]]:
    """Every settled event after ``cursor`` by pages of 7: (transaction id, cursor)."""
    events: list[tuple[uuid.UUID, str]] = []
    while True:
        page = await engine.changes().page(cursor, 7)
        events += [(c.transaction.transaction_id, c.cursor) for c in page.changes]
        cursor = page.cursor
        if not page.more:
            return events


async def test_racing_writers_and_a_follower_see_every_set_once(engine: Engine) -> None:
    posted: list[uuid.UUID] = []
    followed: list[uuid.UUID] = []

    async def writer(number: int) -> None:
        for i in range(SETS_EACH):
            txid = uuid.uuid4()
            await engine.post_json(transfer(f"{number + 1}.{i:02d}", 1727347200000 + i, transaction_id=txid))
            posted.append(txid)

    async def follower() -> None:
        async for page in engine.changes().follow(None, FollowOptions(poll=0.02)):
            followed.extend(c.transaction.transaction_id for c in page.changes)
            if len(followed) >= WRITERS * SETS_EACH:
                return

    following = asyncio.create_task(follower())
    await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    await asyncio.wait_for(following, 60)
    assert sorted(followed) == sorted(posted)  # each once: the follower drops repeats itself
    await asyncio.sleep(1.2)  # past the settle time: every write's log row has settled
    settled = [txid for txid, _ in await drain(engine, None)]
    assert sorted(settled) == sorted(posted)  # settled pages never repeat one


async def test_a_retry_or_a_conflict_adds_no_event_and_a_reversal_says_what_it_reverses(
    engine: Engine,
) -> None:
    txid = uuid.uuid4()
    document = transfer("5.00", 1727347200000, transaction_id=txid)
    await engine.post_json(document)
    await asyncio.gather(*(engine.post_json(document) for _ in range(5)))
    with pytest.raises(ConflictingResubmission):
        await engine.post_json(transfer("6.00", 1727347200000, transaction_id=txid))
    reversal = await engine.reverse(txid)
    await asyncio.sleep(1.2)
    page = await engine.changes().page(None)
    assert [c.transaction.transaction_id for c in page.changes] == [txid, reversal.transaction_id]
    first, second = page.changes
    assert (first.kind, second.kind) == (ChangeType.RECORDED, ChangeType.REVERSAL)
    assert second.reverses == txid and second.to_json()["reverses"] == str(txid)
    event = first.to_json()
    assert event["event_id"] == str(first.event_id) and event["cursor"] == first.cursor
    assert [str(leg.amount) for leg in first.transaction.legs] == ["5.00", "5.00"]
    assert '"amount": "5.00"' in json.dumps(event)  # amounts travel as strings


async def test_resuming_from_any_event_cursor_skips_nothing_after_it(engine: Engine) -> None:
    posted = [uuid.uuid4() for _ in range(12)]
    for number, txid in enumerate(posted):
        await engine.record_batch(
            [parse_entry_set_json(transfer(f"{number + 1}", 1727347200000, transaction_id=txid))]
        )
    await asyncio.gather(*(engine.post_json(transfer("1", 1727347200000)) for _ in range(6)))
    await asyncio.sleep(1.2)
    events = await drain(engine, None)
    assert len(events) == 18 and len({txid for txid, _ in events}) == 18
    for index, (_txid, cursor) in enumerate(events):
        rest = {txid for txid, _ in await drain(engine, cursor)}
        assert {txid for txid, _ in events[index + 1 :]} <= rest


async def test_following_from_now_gives_only_later_sets(engine: Engine) -> None:
    earlier = uuid.uuid4()
    await engine.post_json(transfer("1", 1727347200000, transaction_id=earlier))
    start = await engine.changes().start("now")
    later = uuid.uuid4()
    await engine.post_json(transfer("2", 1727347200000, transaction_id=later))
    seen: list[uuid.UUID] = []
    async for page in engine.changes().follow(start, FollowOptions(poll=0.02, stop_when_idle=True)):
        seen += [c.transaction.transaction_id for c in page.changes]
    assert seen == [later]  # not the set committed just before, though it has not settled
    page = await engine.changes().page(start)  # a poller from now: settled events only, never the earlier
    assert earlier not in [c.transaction.transaction_id for c in page.changes]


async def test_a_cursor_it_did_not_issue_is_refused(engine: Engine, store: Store) -> None:
    foreign = "c1-1-" + "0" * 32 if store.info.kind == "sqlite" else "s1-4"
    for cursor in (foreign, "../../etc", "s1-" + "9" * 30):
        with pytest.raises(ValidationError) as refused:
            await engine.changes().page(cursor)
        assert refused.value.problems[0].field == "cursor"
    with pytest.raises(ValidationError):
        await engine.changes().page(None, 0)


async def test_one_publisher_per_name_moves_the_cursor(engine: Engine) -> None:
    feed = engine.changes()
    assert await feed.saved("relay") is None
    await feed.save("relay", None, "s1-1")
    outcomes = await asyncio.gather(
        *(feed.save("relay", "s1-1", f"s1-{n}") for n in range(2, 12)), return_exceptions=True
    )
    assert sum(1 for o in outcomes if o is None) == 1
    assert all(isinstance(o, LedgerError) for o in outcomes if o is not None)
    assert await feed.saved("relay") in {f"s1-{n}" for n in range(2, 12)}
    with pytest.raises(ValidationError):
        await feed.saved("../x")


async def test_publishers_say_how_far_behind_their_saved_cursors_are(engine: Engine, store: Store) -> None:
    feed = engine.changes()
    now = await feed.start("now")
    assert now is not None
    await feed.save("relay", None, now)
    await feed.save("idle", None, now)
    await store.keep_setting("change_cursor:fresh", "")  # started, nothing saved yet: left out
    await store.keep_setting(
        "change_cursor:foreign", "c1-1-" + "0" * 32 if store.info.kind == "sqlite" else "s1-4"
    )
    for number in range(3):
        await engine.post_json(transfer(f"{number + 1}", 1727347200000))
    deadline = asyncio.get_running_loop().time() + 15
    while not (lags := await feed.publishers())["relay"].behind:  # Cassandra: once the sets settle
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)
    assert set(lags) == {"relay", "idle"}
    relay = lags["relay"]
    if store.info.kind == "sqlite":
        assert (relay.events, relay.seconds) == (3, None)
    else:
        assert relay.events is None and relay.seconds is not None and 0 < relay.seconds < 60
    caught_up, seen = relay.cursor, 0
    while seen < 3:  # Cassandra settles each set on its own: read until all three were given
        assert asyncio.get_running_loop().time() < deadline
        page = await feed.page(caught_up)
        caught_up, seen = page.cursor, seen + len(page.changes)
        if seen < 3:
            await asyncio.sleep(0.2)
    await feed.save("relay", relay.cursor, caught_up)
    lags = await feed.publishers()
    assert not lags["relay"].behind and lags["relay"].cursor == caught_up
    assert lags["idle"].behind
