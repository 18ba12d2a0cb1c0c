"""Repair of the Cassandra write path: complete, from the claim log, every set a crash cut short.

Why apart from the writer: repair reads what the writer's steps left behind (log rows never
marked done) and finishes them the same way: the claimed sets' rows written again, their
reservations at bounded accounts' heads posted or, once no write can still claim them, released,
and the row marked done (docs/cassandra-write-path.md, docs/limits.md).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime

from ...domain.address import parse_address
from ...domain.blocks import SealPolicy
from ...domain.claims import (
    CLAIM_LOG_SLOTS,
    CLAIM_READ_GROUP,
    RepairReport,
    shard_of,
    window_of,
    window_start,
)
from ...domain.materialise import materialise
from ...domain.model import RecordedTransaction
from ...domain.money import ZERO
from .feed import time_of
from .hold_rows import is_hold_claim, is_set_claim
from .limits import CassandraLimits, HeadMove, settled_move
from .rows import Execute, Prepare
from .windows import WindowIndex
from .writes import RESERVATION_GRACE, ClaimWriter, LogKey, LogRow


class ClaimRepair:
    """Finds and completes the writes a crash left unfinished (see the module docstring)."""

    def __init__(
        self,
        writer: ClaimWriter,
        execute: Execute,
        prepare: Prepare,
        shards: Callable[[], Awaitable[int]],
        windows: WindowIndex,
        limits: CassandraLimits,
    ) -> None:
        self._writer = writer
        self._execute = execute
        self._prepare = prepare
        self._shards = shards
        self._windows = windows
        self._limits = limits

    async def unfinished(self, since_window: int) -> list[LogRow]:
        """Log rows from ``since_window`` on that were never marked done: (key, ids, heads)."""
        await self._writer.settle()
        windows = await self._windows.since(since_window)
        found: list[LogRow] = []
        for window in windows:
            for slot in range(CLAIM_LOG_SLOTS):
                statement = (await self._prepare("claim_log_heads")).bind((window, slot))
                statement.fetch_size = None
                rows = (await self._execute(statement)).rows
                found += [
                    ((window, slot, batch), list(ids or ()), dict(heads or {}), frozenset(settles or ()))
                    for batch, ids, done, heads, settles in rows
                    if not done
                ]
        return found

    async def repair(self, policy: SealPolicy, now: datetime, since_window: int) -> RepairReport:
        """Materialise again every claimed set of every unfinished log row, settle its heads, then
        mark it done (a row with unclaimed sets or reservations still young is left for later)."""
        report = RepairReport()
        shards = await self._shards()
        pending = await self.unfinished(since_window)
        report.unfinished = len(pending)
        for key, ids, heads, settles in pending:
            if settles:
                repair = self._writer.repair_settles
                if repair is not None and await repair(key, settles, heads, now, policy):
                    await self._execute(await self._prepare("log_done"), key)
                    report.batches += 1
                continue
            by_shard: dict[int, list[uuid.UUID]] = defaultdict(list)
            for txid in ids:
                by_shard[shard_of(txid, shards)].append(txid)
            claimed: dict[uuid.UUID, tuple[RecordedTransaction, uuid.UUID | None]] = {}
            for shard, members in by_shard.items():
                for i in range(0, len(members), CLAIM_READ_GROUP):
                    claimed.update(await self._writer.claims(shard, members[i : i + CLAIM_READ_GROUP]))
            sets = [transaction for transaction, _token in claimed.values() if is_set_claim(transaction)]
            await self._writer.rows.write(materialise(sets, policy, completed_at=now), use_cache=False)
            if heads and not await self._settle_heads(key, heads, claimed, now):
                continue
            if len(claimed) < len(set(ids)) and now - _logged_at(key) <= RESERVATION_GRACE:
                continue  # its write may still claim the rest: marked done now, they would go untold
            await self._execute(await self._prepare("log_done"), key)
            report.batches += 1
            report.completed += len(sets)
        return report

    async def _settle_heads(
        self,
        key: LogKey,
        heads: dict[uuid.UUID, list[str]],
        claimed: dict[uuid.UUID, tuple[RecordedTransaction, uuid.UUID | None]],
        now: datetime,
    ) -> bool:
        """Post the reservations of sets this row's write claimed; release the others once the
        row is older than RESERVATION_GRACE. False: some are too young to release yet."""
        old = now - _logged_at(key) > RESERVATION_GRACE
        post: dict[uuid.UUID, list[HeadMove]] = {}
        release: dict[uuid.UUID, list[HeadMove]] = {}
        kept = 0
        for txid, accounts in heads.items():
            transaction, token = claimed.get(txid, (None, None))
            if transaction is not None and token == key[2] and is_hold_claim(transaction):
                kept += 1  # a hold this write placed: its reservation stays until its outcome
            elif transaction is not None and token == key[2]:
                post[txid] = [settled_move(transaction, parse_address(text)) for text in accounts]
            elif transaction is not None or old:  # taken by another write, or can no longer be
                release[txid] = [HeadMove(parse_address(text), None, ZERO, ZERO) for text in accounts]
        await self._limits.settle(key[2], post, post=True)
        await self._limits.settle(key[2], release, post=False)
        return kept + len(post) + len(release) == len(heads)


def _logged_at(key: LogKey) -> datetime:
    """When a log row was written: its batch id's time (rows of older versions: their window's start)."""
    return time_of(key[2].time) if key[2].version == 1 else window_start(key[0])


async def unfinished_row(execute: Execute, prepare: Prepare, batch_id: uuid.UUID) -> LogRow | None:
    """The log row of the write whose batch id is ``batch_id``, when it is not marked done (None
    also for rows of older versions, whose random batch ids tell no window: repair finds them)."""
    if batch_id.version != 1:
        return None
    window = window_of(time_of(batch_id.time))
    statement = await prepare("claim_log_heads_row")
    answers = await asyncio.gather(
        *(execute(statement, (window, slot, batch_id)) for slot in range(CLAIM_LOG_SLOTS))
    )
    for slot, answer in enumerate(answers):
        for _batch, ids, done, heads, settles in answer.rows:
            if not done:
                return (window, slot, batch_id), list(ids or ()), dict(heads or {}), frozenset(settles or ())
    return None
