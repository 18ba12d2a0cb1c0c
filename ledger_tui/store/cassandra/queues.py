"""Where concurrent writes of one process meet: claims queued per claim shard (one conditional
batch per shard round), and online posts grouped into shared writes (group commit).

Why: a consensus round per group of claims, and a few requests per group of posts, instead of
several per post, keep the online path near the rate of plain inserts
(docs/cassandra-write-path.md, docs/http-online-path.md).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from ...domain.blocks import SealPolicy
from ...domain.claims import CLAIM_GROUP, CLAIM_GROUP_BYTES, RecordOutcome
from ...domain.model import RecordedTransaction

#: Concurrent group writes of online posts, and posts per group.
_COMBINER_FLUSHERS = 4
_COMBINED_POSTS = 500
#: Posts waiting before a second (third, fourth) group write starts beside a running one: fewer,
#: larger groups cost the node and the client less per post (docs/http-online-path.md).
_QUEUE_FOR_ANOTHER_FLUSHER = 16

#: A claim waiting in a shard queue: the transaction and the log batch claiming it.
Claim = tuple["RecordedTransaction", uuid.UUID]
#: A queue: the claim shard, and the limits fence its claims were checked against (claims
#: checked against other limits never share a batch).
QueueKey = tuple[int, int]
ClaimBatch = Callable[[QueueKey, list[Claim]], Awaitable[dict[uuid.UUID, Any]]]


class ClaimQueues:
    """Per-shard queues of claims waiting for their shard's next conditional batch."""

    def __init__(self, claim_batch: ClaimBatch) -> None:
        self._claim_batch = claim_batch
        self._runners: set[asyncio.Task[None]] = set()
        self._waiting: dict[QueueKey, list[tuple[Claim, asyncio.Future[Any]]]] = defaultdict(list)
        self._busy: set[QueueKey] = set()

    async def claim_all(self, claims: list[tuple[QueueKey, Claim]]) -> list[Any]:
        """Queue claims ((shard, fence), claim); resolves to what each one's batch found for it
        (or the error it failed with), in order. One future per claim and one runner per busy
        queue: no task per claim."""
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
        return list(await asyncio.gather(*futures, return_exceptions=True))

    async def _run(self, shard: QueueKey) -> None:
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
