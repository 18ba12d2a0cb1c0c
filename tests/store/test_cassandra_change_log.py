"""The Cassandra change feed's edges on a real node: a write that never finished waits in the cursor
until repair completes it, a log row acknowledged too late is abandoned before any claim, and a
ledger whose log has random (pre-feed) batch ids is read whole."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ledger_tui.domain.errors import NotFound, StoreUnavailable
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.base import Store

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))


def a_set(amount: str = "1") -> tuple[uuid.UUID, str]:
    txid = uuid.uuid4()
    return txid, transfer(amount, 1727347200000, transaction_id=txid)


async def test_a_write_that_never_marked_done_waits_until_repair(
    engine: Engine, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger_tui.store.cassandra.writes import ClaimWriter

    first, document = a_set()
    await engine.post_json(document)
    with monkeypatch.context() as crash:
        crash.setattr(ClaimWriter, "finish_later", lambda self, *args: None)  # died before the mark
        stuck, document = a_set("2")
        await engine.post_json(document)
    last, document = a_set("3")
    await engine.post_json(document)
    await asyncio.sleep(1.2)
    page = await engine.changes().page(None)
    assert [c.transaction.transaction_id for c in page.changes] == [first, last]
    assert page.lag.waiting == 1 and page.lag.oldest_waiting is not None
    again = await engine.changes().page(page.cursor)
    assert again.changes == [] and again.lag.waiting == 1
    await engine.repair()
    finished = await engine.changes().page(page.cursor)
    assert [c.transaction.transaction_id for c in finished.changes] == [stuck]
    assert finished.lag.waiting == 0
    assert (await engine.changes().page(finished.cursor)).changes == []


async def test_a_log_row_acknowledged_too_late_is_abandoned_before_any_claim(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger_tui.store.cassandra.writes.LOG_DEADLINE", timedelta(seconds=-1))
    txid, document = a_set()
    with pytest.raises(StoreUnavailable, match="too slowly"):
        await engine.post_json(document)
    monkeypatch.undo()
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))
    await asyncio.sleep(1.2)
    page = await engine.changes().page(None)
    assert page.changes == [] and page.lag.waiting == 0  # abandoned rows are marked done
    with pytest.raises(NotFound):
        await engine.transaction(txid)
    await engine.post_json(document)  # the retry records it
    await asyncio.sleep(1.2)
    assert [c.transaction.transaction_id for c in (await engine.changes().page(page.cursor)).changes] == [
        txid
    ]


async def test_a_log_with_random_batch_ids_is_read_whole(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger_tui.store.cassandra.writes.batch_id_at", lambda moment: uuid.uuid4())
    ids = []
    for amount in ("1", "2", "3"):
        txid, document = a_set(amount)
        await engine.record_batch([parse_entry_set_json(document)])
        ids.append(txid)
    monkeypatch.undo()
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))
    newer, document = a_set("4")
    await engine.post_json(document)
    await asyncio.sleep(1.2)
    while datetime.now(UTC).minute % 10 == 0 and datetime.now(UTC).second < 2:
        await asyncio.sleep(0.5)  # a random id counts from its window's start: let that settle too
    seen = []
    cursor = None
    while True:
        page = await engine.changes().page(cursor, 1)
        seen += [c.transaction.transaction_id for c in page.changes]
        cursor = page.cursor
        if not page.more:
            break
    assert sorted(seen[:3]) == sorted(ids) and seen[3:] == [newer]
