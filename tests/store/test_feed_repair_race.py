"""Repair run while a write is between its claim-log row and its claims (``ledger-tui verify`` or
``repair``, an import, load or ingest starting elsewhere, all of which repair first) leaves the row
to its write: marked done with nothing claimed under it, the change feed would pass it as empty and
never tell the sets the write then claims under it. A write never starts claiming under a row old
enough for repair to judge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import pytest

from ledger_tui.domain.errors import NotFound, StoreUnavailable
from ledger_tui.domain.model import PostStatus
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger
from ledger_tui.store.base import Store

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))


def _paused_before_claims(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Event, asyncio.Event]:
    """The store's writes stop after their log row, before claiming, until ``go_on`` is set."""
    writer = store._writer  # type: ignore[attr-defined]
    logged, go_on = asyncio.Event(), asyncio.Event()
    claim_all = writer._queues.claim_all

    async def slow(queued: Any) -> Any:
        logged.set()
        await go_on.wait()  # a slow claim round: a busy node, a queue of claims, a GC pause
        return await claim_all(queued)

    monkeypatch.setattr(writer._queues, "claim_all", slow)
    return logged, go_on


async def _repaired_in_flight(
    engine: Engine, store: Store, ledger_url: str, monkeypatch: pytest.MonkeyPatch, write: Awaitable[Any]
) -> tuple[uuid.UUID, asyncio.Future[Any], asyncio.Event]:
    """A set posted, then ``write`` started and paused after its log row while another process
    repairs (e.g. ``ledger-tui verify``), and the feed's settle time passed: the first set's id,
    the write in flight, and the event that lets it claim."""
    before = uuid.uuid4()
    await engine.post_json(transfer("1", 1727347200000, transaction_id=before))
    logged, go_on = _paused_before_claims(store, monkeypatch)
    in_flight = asyncio.ensure_future(write)
    await asyncio.wait_for(logged.wait(), 30)
    async with open_ledger(LedgerOptions(store=ledger_url)) as elsewhere:
        report = await elsewhere.repair()
    assert report.unfinished == 1
    await asyncio.sleep(1.2)
    return before, in_flight, go_on


async def test_repair_beside_a_write_in_flight_never_loses_its_set_from_the_feed(
    engine: Engine, store: Store, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    txid = uuid.uuid4()
    write = engine.post_json(transfer("2", 1727347200000, transaction_id=txid))
    before, posting, go_on = await _repaired_in_flight(engine, store, ledger_url, monkeypatch, write)
    first = await engine.changes().page(None)  # a poller (or a publisher) passes the row now done
    go_on.set()
    await posting
    await engine.transaction(txid)  # the set is in the ledger (NotFound otherwise)
    await asyncio.sleep(1.2)
    assert [c.transaction.transaction_id for c in first.changes] == [before]
    after_first = [c.transaction.transaction_id for c in (await engine.changes().page(first.cursor)).changes]
    assert txid in after_first, "a reader resuming at its cursor (a publisher's saved one) skips the set"


class _ListSink:
    def __init__(self) -> None:
        self.sent: list[uuid.UUID] = []

    def describe(self) -> str:
        return "list"

    async def start(self) -> None:
        return None

    async def send(self, changes: list[Any]) -> None:
        self.sent += [c.transaction.transaction_id for c in changes]

    def stop(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_publish_never_saves_its_cursor_past_a_set_it_did_not_send(
    engine: Engine, store: Store, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger_tui.publish.relay import Relay

    txid = uuid.uuid4()
    write = engine.post_json(transfer("2", 1727347200000, transaction_id=txid))
    before, posting, go_on = await _repaired_in_flight(engine, store, ledger_url, monkeypatch, write)
    sink = _ListSink()
    await Relay(engine, sink, "relay", poll=0.05).run(stop_when_idle=True)
    assert sink.sent == [before]
    go_on.set()
    await posting
    await asyncio.sleep(1.2)
    await Relay(engine, sink, "relay", poll=0.05).run(
        stop_when_idle=True
    )  # the next run, from the saved cursor
    assert txid in sink.sent, "publish saved a cursor past a committed set it never sent"


async def test_repair_beside_a_hold_being_placed_never_loses_its_hold_placed_event(
    engine: Engine, store: Store, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger_tui.domain.parse import parse_entry_set_json

    hold_id = uuid.uuid4()
    held = parse_entry_set_json(transfer("5", 1727347200000, transaction_id=hold_id), engine.currencies)
    place = engine.holds().place(held, expires_in=timedelta(days=1))
    _before, placing, go_on = await _repaired_in_flight(engine, store, ledger_url, monkeypatch, place)
    first = await engine.changes().page(None)
    go_on.set()
    await placing
    await asyncio.sleep(1.2)
    later = await engine.changes().page(first.cursor)
    told = [(c.kind.value, c.transaction.transaction_id) for c in first.changes + later.changes]
    assert ("hold.placed", hold_id) in told, f"the hold's event was never told: {told}"


async def test_a_write_whose_claims_waited_past_the_deadline_claims_nothing(
    engine: Engine, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger_tui.store.cassandra.writes.CLAIM_DEADLINE", timedelta(seconds=1))
    logged, go_on = _paused_before_claims(store, monkeypatch)
    txid = uuid.uuid4()
    posting = asyncio.ensure_future(engine.post_json(transfer("2", 1727347200000, transaction_id=txid)))
    await asyncio.wait_for(logged.wait(), 30)
    await asyncio.sleep(1.2)
    go_on.set()
    with pytest.raises(StoreUnavailable, match="waited too long"):
        await posting
    with pytest.raises(NotFound):
        await engine.transaction(txid)
    monkeypatch.undo()
    receipt = await engine.post_json(transfer("2", 1727347200000, transaction_id=txid))  # the retry
    assert receipt.status is PostStatus.RECORDED
    report = await engine.verify()
    assert report.ok and report.transactions == 1, report.problems
