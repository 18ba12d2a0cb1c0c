"""Reads of the Cassandra change feed: log rows from the cursor's window on, then the claims of
the rows that are done (a claim holds its set whole, so an event needs no entry reads).

A set is delivered by the row whose write claimed it (``claimed_by``), so a retry that found it
claimed never delivers it twice. The rules of the walk are in feed.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ...domain.changes import Change, ChangePage, ChangeType, FeedLag, HoldChange
from ...domain.claims import (
    CLAIM_LOG_SLOTS,
    CLAIM_READ_GROUP,
    CLAIM_WINDOW,
    shard_of,
    window_of,
    window_start,
)
from ...domain.holds import HoldOutcome
from ...domain.model import RecordedTransaction
from .cql import transaction_from_row
from .feed import (
    READ_ALL,
    SETTLE,
    Delivery,
    FeedCursor,
    LogKey,
    LogRow,
    Walk,
    lower_bound,
    ticks_of,
    time_of,
    walk,
)
from .hold_rows import StoredHold, hold_from_claim, is_hold_claim
from .windows import WindowIndex

#: How far back a cursor for "now" looks for writes still in flight.
RECENT = 2 * CLAIM_WINDOW
#: Most windows (a day) and log rows one page reads before it answers (a cursor far behind a
#: sparse or a busy log then takes several pages, never one unbounded read).
MAX_WINDOWS = 144
MAX_ROWS = 20_000
Execute = Callable[..., Awaitable[Any]]
Statement = Callable[[str], Awaitable[Any]]


class ChangeReader:
    """Pages of the change feed of one keyspace."""

    def __init__(
        self,
        execute: Execute,
        statement: Statement,
        shards: Callable[[], Awaitable[int]],
        holds: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, StoredHold]]],
        windows: WindowIndex,
    ) -> None:
        self._windows = windows
        self._execute = execute
        self._statement = statement
        self._shards = shards
        self._holds = holds

    async def _rows(self, name: str, parameters: tuple[Any, ...], window: int, slot: int) -> list[LogRow]:
        bound = (await self._statement(name)).bind(parameters)
        bound.fetch_size = None
        result = await self._execute(bound)
        return [
            LogRow(LogKey.of(window, slot, batch), tuple(ids or ()), bool(done), frozenset(settles or ()))
            for batch, ids, done, settles in result.rows
        ]

    async def _window(self, window: int, after_ticks: int | None) -> list[LogRow]:
        """Every row of a window (from just before ``after_ticks`` when given)."""
        if after_ticks is None:
            reads = [self._rows("claim_log", (window, slot), window, slot) for slot in range(CLAIM_LOG_SLOTS)]
        else:
            bound = lower_bound(after_ticks)
            reads = [
                self._rows("claim_log_after", (window, slot, bound), window, slot)
                for slot in range(CLAIM_LOG_SLOTS)
            ]
        return [row for rows in await asyncio.gather(*reads) for row in rows]

    async def _waiting(self, keys: tuple[LogKey, ...]) -> dict[LogKey, LogRow]:
        reads = [self._rows("claim_log_row", (k.window, k.slot, k.batch_id), k.window, k.slot) for k in keys]
        return {row.key: row for rows in await asyncio.gather(*reads) for row in rows}

    async def _walk(
        self,
        cursor: FeedCursor,
        now: datetime,
        limit: int,
        fresh: frozenset[int] | None,
        settle: timedelta | None = None,
    ) -> Walk:
        settled = ticks_of(now - (SETTLE if settle is None else settle))
        first = window_of(time_of(cursor.after[0])) if cursor.after[0] else 0
        windows = await self._windows.since(first)
        rows: list[LogRow] = []
        read_through = READ_ALL
        counted = 0
        for window in windows:
            found = await self._window(window, cursor.after[0] if window == first else None)
            rows += found
            # Only settled rows fill a page: unsettled ones must not stop the read before later
            # windows (a follower would take itself to be idle with done rows unread there).
            counted += sum(
                len(r.ids) for r in found if r.key.position > cursor.after and r.key.ticks <= settled
            )
            if (
                counted >= limit or len(rows) > MAX_ROWS or window - first >= MAX_WINDOWS
            ) and window != windows[-1]:
                read_through = ticks_of(window_start(window + 1)) - 1
                break
        return walk(cursor, await self._waiting(cursor.waiting), rows, settled, read_through, limit, fresh)

    async def page(self, text: str | None, limit: int, fresh: frozenset[str] | None) -> ChangePage:
        now = datetime.now(UTC)
        given = None if fresh is None else frozenset(_token_batch(token) for token in fresh)
        passed = await self._walk(FeedCursor.decode(text), now, limit, given)
        changes = await self._deliver(passed.deliveries)
        tokens = frozenset(f"{batch:032x}" for batch in passed.fresh)
        return ChangePage(changes, passed.cursor.encode(), passed.more, _lag(passed.cursor, now), tokens)

    async def now(self) -> str:
        """A cursor past every row written before now, waiting for those not done yet: later sets
        only (a write that began before now but was not logged yet is left out, and one still
        unfinished after RECENT is taken as failed: ``repair`` completes it, unpublished)."""
        now = datetime.now(UTC)
        cursor = FeedCursor((ticks_of(now - RECENT), 0))
        while True:
            passed = await self._walk(cursor, now, 1 << 30, fresh=None, settle=timedelta(0))
            if not passed.more or passed.cursor == cursor:  # or it waits for all it can carry
                return passed.cursor.encode()
            cursor = passed.cursor

    async def _deliver(self, deliveries: list[Delivery]) -> list[Change]:
        claimed = await asyncio.gather(*(self._claimed(d.row) for d in deliveries))
        changes: list[Change] = []
        for delivery, events in zip(deliveries, claimed, strict=True):
            for position, (transaction, hold) in enumerate(events, 1):
                cursor = delivery.after if position == len(events) else delivery.before
                changes.append(Change(transaction, cursor, hold))
        return changes

    async def _claimed(self, row: LogRow) -> list[Event]:
        """What this row's write committed, in the row's order: the sets and holds it claimed,
        and the outcomes it recorded (a capture told as the set it records)."""
        shards = await self._shards()
        by_shard: dict[int, list[uuid.UUID]] = defaultdict(list)
        for txid in row.ids:
            if txid not in row.settles:
                by_shard[shard_of(txid, shards)].append(txid)
        statement = await self._statement("get_claims")
        reads = [
            self._execute(statement, (shard, ids[i : i + CLAIM_READ_GROUP]))
            for shard, ids in by_shard.items()
            for i in range(0, len(ids), CLAIM_READ_GROUP)
        ]
        mine: dict[uuid.UUID, Event] = {}
        batch = row.key.batch_id
        for result in await asyncio.gather(*reads):
            for found in result.rows:
                if found[4] is None or found[4] == batch:  # ledgers older than claimed_by: every claim
                    claim = transaction_from_row(found)
                    if not is_hold_claim(claim):
                        mine[found[0]] = (claim, None)
                        continue
                    hold = hold_from_claim(tuple(found)).hold
                    mine[found[0]] = (hold.transaction, HoldChange(ChangeType.HOLD_PLACED, hold.expires_at))
        if row.settles:
            for hold_id, stored in (await self._holds(list(row.settles))).items():
                if stored.outcome is not None and stored.outcome.claimed_by == batch:
                    mine[hold_id] = _outcome_event(stored)
        return [mine[txid] for txid in row.ids if txid in mine]


#: One event of a log row: the set (or the hold's legs) and, for a hold event, what happened.
Event = tuple[RecordedTransaction, HoldChange | None]


def _outcome_event(stored: StoredHold) -> Event:
    """The event of a hold's outcome: a capture is its set, a void or expiry a hold event."""
    outcome = stored.outcome
    assert outcome is not None
    if outcome.capture is not None:
        return outcome.capture, None
    kind = ChangeType.HOLD_VOIDED if outcome.outcome is HoldOutcome.VOIDED else ChangeType.HOLD_EXPIRED
    return stored.hold.transaction, HoldChange(kind, stored.hold.expires_at, outcome.at)


def _token_batch(token: str) -> int:
    """The batch a fresh token names (tokens come back from the page that gave them)."""
    if len(token) != 32:
        raise ValueError("not a fresh-row token")
    return int(token, 16)


def _lag(cursor: FeedCursor, now: datetime) -> FeedLag:
    behind = max(0.0, (now - time_of(cursor.after[0])).total_seconds()) if cursor.after[0] else None
    oldest = min(cursor.waiting, default=None)
    return FeedLag(
        seconds=behind,
        waiting=len(cursor.waiting),
        oldest_waiting=None if oldest is None else time_of(oldest.ticks),
    )
