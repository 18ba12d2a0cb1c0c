"""The Cassandra write path: log the ids, claim them per shard, write the rows, mark the log done.

Why this shape: a consensus round per group of claims (not per set) and unlogged batches (no
batch log) keep a write near the rate of plain inserts, and the claim log lets repair complete
any set a crash cut short without scanning the ledger. The steps and the figures behind them
are in docs/cassandra-write-path.md.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any

from ...domain.blocks import SealPolicy
from ...domain.claims import (
    CLAIM_GROUP,
    CLAIM_GROUP_BYTES,
    CLAIM_LOG_SLOTS,
    CLAIM_READ_GROUP,
    CLAIM_WINDOW,
    RecordOutcome,
    RepairReport,
    claimed_by,
    first_of_each_id,
    in_submitted_order,
    shard_of,
    window_of,
)
from ...domain.errors import StoreUnavailable
from ...domain.materialise import materialise
from ...domain.model import RecordedTransaction
from ...domain.timeutil import to_epoch_ms
from .batches import batch_of
from .cql import transaction_from_row
from .feed import LOG_DEADLINE, batch_id_at
from .rows import Execute, Prepare, RowWriter

log = logging.getLogger(__name__)

#: Node name under which repair keeps its watermark (in seal_state, like a sealed node).
REPAIR_STATE = "#repair"
_CLAIM_ROUNDS = 20
#: Log writes tried before a write gives up (each one answered later than LOG_DEADLINE).
_LOG_ATTEMPTS = 3
#: Concurrent group writes of online posts, and posts per group.
_COMBINER_FLUSHERS = 4
_COMBINED_POSTS = 500
#: Posts waiting before a second (third, fourth) group write starts beside a running one: fewer,
#: larger groups cost the node and the client less per post (docs/http-online-path.md).
_QUEUE_FOR_ANOTHER_FLUSHER = 16

#: A claim waiting in a shard queue: the transaction and the log batch claiming it.
Claim = tuple["RecordedTransaction", uuid.UUID]
ClaimBatch = Callable[[int, list[Claim]], Awaitable[dict[uuid.UUID, Any]]]


class ClaimQueues:
    """Per-shard queues of claims waiting for their shard's next conditional batch."""

    def __init__(self, claim_batch: ClaimBatch) -> None:
        self._claim_batch = claim_batch
        self._runners: set[asyncio.Task[None]] = set()
        self._waiting: dict[int, list[tuple[Claim, asyncio.Future[Any]]]] = defaultdict(list)
        self._busy: set[int] = set()

    async def claim_all(self, claims: list[tuple[int, Claim]]) -> list[Any]:
        """Queue claims (shard, claim); resolves to what each one's shard batch found for it, in
        order. One future per claim and one runner per busy shard: no task per claim."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        for shard, claim in claims:
            future: asyncio.Future[Any] = loop.create_future()
            futures.append(future)
            self._waiting[shard].append((claim, future))
            if shard not in self._busy:
                self._busy.add(shard)
                runner = asyncio.ensure_future(self._run(shard))
                self._runners.add(runner)
                runner.add_done_callback(self._runners.discard)
        return list(await asyncio.gather(*futures))

    async def _run(self, shard: int) -> None:
        try:
            while self._waiting[shard]:
                taken, self._waiting[shard] = _distinct_ids(self._waiting[shard])
                try:
                    found = await self._claim_batch(shard, [t for t, _ in taken])
                except BaseException as error:  # every waiter learns it; the queue goes on
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                for (transaction, _token), future in taken:
                    if not future.done():
                        future.set_result(found[transaction.transaction_id])
        finally:
            self._busy.discard(shard)
            for _, future in self._waiting.pop(shard, []):  # only when the loop was cancelled
                if not future.done():
                    future.cancel()


def _distinct_ids(
    queue: list[tuple[Claim, asyncio.Future[Any]]],
) -> tuple[list[tuple[Claim, asyncio.Future[Any]]], list[tuple[Claim, asyncio.Future[Any]]]]:
    """Up to a group of queued claims with distinct ids, and the rest. A second claim of an id
    waits for the next round, where it finds the first one's claim (a duplicate or a conflict).
    A group holds at most CLAIM_GROUP claims and CLAIM_GROUP_BYTES of legs (at least one claim),
    so that one conditional write is never a mutation too large for the node."""
    taken: list[tuple[Claim, asyncio.Future[Any]]] = []
    rest: list[tuple[Claim, asyncio.Future[Any]]] = []
    ids: set[uuid.UUID] = set()
    size = 0
    for position, item in enumerate(queue):
        if len(taken) >= CLAIM_GROUP:  # the rest as it is: a long queue is not walked per round
            rest.extend(queue[position:])
            break
        transaction = item[0][0]
        txid = transaction.transaction_id
        if txid in ids:
            rest.append(item)
            continue
        legs = len(transaction.legs_json())
        if taken and size + legs > CLAIM_GROUP_BYTES:  # full by bytes: the rest as it is
            rest.extend(queue[position:])
            break
        ids.add(txid)
        taken.append(item)
        size += legs
    return taken, rest


class ClaimWriter:
    """Claims and materialises entry sets on Cassandra (docs/cassandra-write-path.md)."""

    def __init__(
        self,
        execute: Execute,
        prepare: Prepare,
        shards: Callable[[], Awaitable[int]],
        serial: int,
        replica_of: Callable[[bytes | None], Hashable],
    ) -> None:
        self._execute = execute
        self._serial = serial
        self._prepare = prepare
        self._shards = shards
        self._queues = ClaimQueues(self._claim_batch)
        self._known_windows: set[int] = set()
        self._marking: set[asyncio.Task[None]] = set()
        self.rows = RowWriter(execute, prepare, replica_of)

    # -- claims -------------------------------------------------------------------------------

    async def _claim_batch(self, shard: int, members: list[Claim]) -> dict[uuid.UUID, Any]:
        """Conditional batches for ``members`` (one shard); returns, per id, ``True`` if the
        member's own write claimed it (maybe in an attempt that timed out), else the claim
        stored under it."""
        claim = await self.rows.encoder("claim")
        pending = {t.transaction_id: (t, token) for t, token in members}
        found: dict[uuid.UUID, Any] = {}
        for _round in range(_CLAIM_ROUNDS):
            if not pending:
                break
            # Marked idempotent so the driver may also send it to a second coordinator when
            # the first is silent: of two executions at most one applies (IF NOT EXISTS), and
            # whichever answer arrives, a claim stored under our log token reads as ours below,
            # while another writer's claim (other token) stays a duplicate or a conflict.
            rows = [
                (txid, t.payload_hash, t.legs_json(), len(t.legs), to_epoch_ms(t.recorded_at), token)
                for txid, (t, token) in pending.items()
            ]
            result = await self._execute(batch_of([claim.partition((shard,), rows)], conditional=True))
            if result.rows and result.rows[0][0]:  # [applied]
                found.update(dict.fromkeys(pending, True))
                return found
            # Some ids were taken: read what is stored (serially, so a concurrent claim is seen
            # whole), set those aside and claim the rest in a new round.
            for txid, (transaction, claimed) in (await self.claims(shard, list(pending))).items():
                found[txid] = True if claimed == pending[txid][1] else transaction
                pending.pop(txid, None)
        if pending:
            raise StoreUnavailable("claims kept colliding with concurrent writers; retry with the same ids")
        return found

    async def claims(
        self, shard: int, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[RecordedTransaction, uuid.UUID | None]]:
        """The claims stored under ``ids`` (all in ``shard``) and the batch that made each, read
        at serial consistency (a claim in flight is seen whole or not at all)."""
        statement = (await self._prepare("get_claims")).bind((shard, ids))
        statement.consistency_level = self._serial
        result = await self._execute(statement)
        return {row[0]: (transaction_from_row(row), row[4]) for row in result.rows}

    # -- the write ----------------------------------------------------------------------------

    async def write(
        self,
        transactions: Sequence[RecordedTransaction],
        policy: SealPolicy,
        complete_duplicates: bool,
        now: datetime,
    ) -> list[RecordOutcome]:
        """Log, claim, materialise, mark done (after answering); one outcome per submission, in order."""
        if not transactions:
            return []
        unique, repeats = first_of_each_id(transactions)
        # Every row is bound (encoded) before the log and the claims: a value the driver cannot
        # encode fails here, never after an id is claimed (a claim without rows fails verify).
        prebound = await self.rows.bind(materialise(unique, policy))
        shards = await self._shards()
        log_key = await self._log(unique)
        token = log_key[2]
        claims = [(shard_of(t.transaction_id, shards), (t, token)) for t in unique]
        answers = await self._queues.claim_all(claims)
        outcomes: dict[uuid.UUID, RecordOutcome] = {}
        fresh: list[RecordedTransaction] = []
        earlier: list[RecordedTransaction] = []
        for transaction, answer in zip(unique, answers, strict=True):
            outcome = (
                RecordOutcome(transaction, duplicate=False)
                if answer is True
                else claimed_by(transaction, answer)
            )
            outcomes[transaction.transaction_id] = outcome
            if outcome.conflicting:
                continue
            if outcome.duplicate:
                earlier.append(outcome.transaction)
            else:
                fresh.append(transaction)
        if len(fresh) == len(unique):  # the common case: write what was bound up front
            await self.rows.send(prebound)
        else:
            await self.rows.write(materialise(fresh, policy))
        if complete_duplicates and earlier:
            # The claim may have outlived rows that never landed: writing the identical rows
            # again is a no-op when they did and completes the set when they did not.
            await self.rows.write(materialise(earlier, policy, completed_at=now), use_cache=False)
        self._mark_done_later(log_key)
        return in_submitted_order(transactions, repeats, outcomes)

    def _mark_done_later(self, key: tuple[int, int, uuid.UUID]) -> None:
        """Mark a log row done without holding the answer for it: the sets are durable once
        their rows are, and a mark that never lands only makes repair write them again."""
        task = asyncio.ensure_future(self._mark_done(key))
        self._marking.add(task)
        task.add_done_callback(self._marking.discard)

    async def _mark_done(self, key: tuple[int, int, uuid.UUID]) -> None:
        try:
            await self._execute(await self._prepare("log_done"), key)
        except Exception as error:  # repair completes the group again and marks it then
            log.warning("a claim log row was not marked done (repair will): %s", type(error).__name__)

    async def settle(self) -> None:
        """Wait for the marks in flight now (before reading the log, and at close); waiting
        never cancels them."""
        if self._marking:
            await asyncio.wait(set(self._marking))

    async def _log(self, unique: list[RecordedTransaction]) -> tuple[int, int, uuid.UUID]:
        """Log the ids about to be claimed (before any claim: repair trusts only this log) under a
        time-based batch id of the log write's own time (a restore's sets were recorded long ago;
        repair and the change feed read windows by the time of the write). A row acknowledged
        later than LOG_DEADLINE is abandoned (marked done, nothing claimed under it) and the ids
        logged again, so a change feed reader never sees a row appear behind its settled cursor."""
        ids = [t.transaction_id for t in unique]
        for _attempt in range(_LOG_ATTEMPTS):
            moment = datetime.now(UTC)
            window = window_of(moment)
            key = (window, random.randrange(CLAIM_LOG_SLOTS), batch_id_at(moment))
            writes = [self._execute(await self._prepare("log_claims"), (*key, ids))]
            if window not in self._known_windows:
                writes.append(self._execute(await self._prepare("log_window"), (window,)))
            await asyncio.gather(*writes)
            self._known_windows.add(window)
            if datetime.now(UTC) - moment <= LOG_DEADLINE:
                return key
            self._mark_done_later(key)
        raise StoreUnavailable("the claim log answered too slowly; nothing was written (retry)")

    # -- repair -------------------------------------------------------------------------------

    async def unfinished(self, since_window: int) -> list[tuple[tuple[int, int, uuid.UUID], list[uuid.UUID]]]:
        """Log rows from ``since_window`` on that were never marked done: (key, ids)."""
        await self.settle()
        windows: list[int] = []
        result = await self._execute(await self._prepare("claim_windows"), (since_window,))
        windows = [row[0] for row in result.rows]
        found: list[tuple[tuple[int, int, uuid.UUID], list[uuid.UUID]]] = []
        for window in windows:
            for slot in range(CLAIM_LOG_SLOTS):
                statement = (await self._prepare("claim_log")).bind((window, slot))
                statement.fetch_size = None
                rows = (await self._execute(statement)).rows
                found += [((window, slot, batch), list(ids or ())) for batch, ids, done in rows if not done]
        return found

    async def repair(self, policy: SealPolicy, now: datetime, since_window: int) -> RepairReport:
        """Materialise again every claimed set of every unfinished log row, then mark it done."""
        report = RepairReport()
        shards = await self._shards()
        pending = await self.unfinished(since_window)
        report.unfinished = len(pending)
        for key, ids in pending:
            by_shard: dict[int, list[uuid.UUID]] = defaultdict(list)
            for txid in ids:
                by_shard[shard_of(txid, shards)].append(txid)
            claimed: list[RecordedTransaction] = []
            for shard, members in by_shard.items():
                for i in range(0, len(members), CLAIM_READ_GROUP):
                    found = await self.claims(shard, members[i : i + CLAIM_READ_GROUP])
                    claimed += [transaction for transaction, _token in found.values()]
            await self.rows.write(materialise(claimed, policy, completed_at=now), use_cache=False)
            await self._execute(await self._prepare("log_done"), key)
            report.batches += 1
            report.completed += len(claimed)
        return report


def repair_watermark(now: datetime) -> int:
    """The first window a repair run at ``now`` still re-reads next time (two windows of grace
    for writers whose clocks lag or whose writes are still retrying)."""
    return window_of(now - 2 * CLAIM_WINDOW)


class PostCombiner:
    """Group commit for online posts: posts that arrive while earlier writes are in flight are
    written together (one log row, shared claim rounds, rows packed by replica), so concurrent
    posters cost the node a few requests per group instead of several per post. Another group
    write starts beside a running one only once enough posts wait for it."""

    def __init__(
        self, write: Callable[[list[RecordedTransaction], SealPolicy], Awaitable[list[RecordOutcome]]]
    ):
        self._write = write
        self._waiting: list[tuple[RecordedTransaction, SealPolicy, asyncio.Future[RecordOutcome]]] = []
        self._flushers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, transaction: RecordedTransaction, policy: SealPolicy) -> RecordOutcome:
        """Queue one post; resolves when the group holding it is written."""
        future: asyncio.Future[RecordOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((transaction, policy, future))
        if self._flushers == 0 or (
            self._flushers < _COMBINER_FLUSHERS and len(self._waiting) >= _QUEUE_FOR_ANOTHER_FLUSHER
        ):
            self._flushers += 1
            task = asyncio.ensure_future(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        try:
            while self._waiting:
                policy = self._waiting[0][1]
                group = [item for item in self._waiting[:_COMBINED_POSTS] if item[1] == policy]
                taken = {id(item) for item in group}
                self._waiting = [item for item in self._waiting if id(item) not in taken]
                try:
                    outcomes = await self._write([t for t, _, _ in group], policy)
                except BaseException as error:
                    for _, _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                for (_, _, future), outcome in zip(group, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._flushers -= 1
