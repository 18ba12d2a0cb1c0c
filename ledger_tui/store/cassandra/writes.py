"""The Cassandra write path: log the ids, reserve at bounded accounts' heads, claim the ids per
shard behind the limits fence, write the rows, post at the heads, mark the log done.

Why this shape: a consensus round per group of claims (not per set) and unlogged batches (no
batch log) keep a write near the rate of plain inserts, and the claim log lets repair complete
any set a crash cut short without scanning the ledger. The steps and the figures behind them
are in docs/cassandra-write-path.md; the heads and the fence in docs/limits.md.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ...domain.blocks import SealPolicy
from ...domain.claims import (
    CLAIM_LOG_SLOTS,
    CLAIM_READ_GROUP,
    CLAIM_WINDOW,
    RecordOutcome,
    claimed_by,
    first_of_each_id,
    in_submitted_order,
    shard_of,
    window_of,
)
from ...domain.errors import NotConfirmed, StoreUnavailable
from ...domain.materialise import materialise
from ...domain.model import RecordedTransaction
from ...domain.timeutil import to_epoch_ms
from .batches import batch_of
from .cql import transaction_from_row
from .feed import LOG_DEADLINE, batch_id_at, time_of
from .limits import CassandraLimits, FenceMoved, HeadMove, LimitView, moves_of
from .queues import Claim, ClaimQueues, QueueKey
from .rows import BoundRows, CurrentLayouts, Execute, Prepare, RowWriter
from .windows import WindowIndex

log = logging.getLogger(__name__)

#: Node name under which repair keeps its watermark (in seal_state, like a sealed node).
REPAIR_STATE = "#repair"
_CLAIM_ROUNDS = 20
#: Log writes tried before a write gives up (each one answered later than LOG_DEADLINE).
_LOG_ATTEMPTS = 3
#: Times a write starts again after the limits changed under it.
FENCE_ATTEMPTS = 5
#: Repair releases a reservation, or marks done a log row, whose set was never claimed only once
#: the row is this old: twice CLAIM_DEADLINE, so its write can no longer claim it (docs/limits.md).
RESERVATION_GRACE = timedelta(minutes=15)
#: No claim attempt starts under a log row older than this (the write fails: retry, same ids).
CLAIM_DEADLINE = RESERVATION_GRACE / 2
LogKey = tuple[int, int, uuid.UUID]
#: An unfinished claim log row: its key, the ids it logged, the heads each set reserved at, and
#: which of the ids are holds the write gave an outcome.
LogRow = tuple[LogKey, list[uuid.UUID], dict[uuid.UUID, list[str]], frozenset[uuid.UUID]]
#: Repair of the holds a log row settles: (row key, hold ids, heads, now, policy) -> all done.
SettleRepair = Callable[
    [LogKey, frozenset[uuid.UUID], dict[uuid.UUID, list[str]], datetime, SealPolicy], Awaitable[bool]
]


class ClaimWriter:
    """Claims and materialises entry sets on Cassandra (docs/cassandra-write-path.md)."""

    def __init__(
        self,
        execute: Execute,
        prepare: Prepare,
        shards: Callable[[], Awaitable[int]],
        serial: int,
        replica_of: Callable[[bytes | None], Hashable],
        limits: CassandraLimits,
        windows: WindowIndex,
        layouts: CurrentLayouts | None = None,
        rollup_parts: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._windows = windows
        self._execute = execute
        self._serial = serial
        self._prepare = prepare
        self._shards = shards
        self._limits = limits
        self._queues = ClaimQueues(self._claim_batch)
        self._known_windows: set[int] = set()
        self._marking: set[asyncio.Task[None]] = set()
        self.rows = RowWriter(execute, prepare, replica_of, layouts, rollup_parts)
        #: Completes what a crash left of a hold's outcome (set by the holds of the store).
        self.repair_settles: SettleRepair | None = None

    # -- claims -------------------------------------------------------------------------------

    async def _claim_batch(self, queue: QueueKey, members: list[Claim]) -> dict[uuid.UUID, Any]:
        """Conditional batches for ``members`` (one shard, checked against the limits of one
        fence); returns, per id, ``True`` if the member's own write claimed it (maybe in an attempt
        that timed out), else the claim stored under it, or a FenceMoved for those the shard's
        fence, moved past the members' limits, kept from being claimed."""
        shard, seq = queue
        claim = await self.rows.encoder("claim")
        fence = await self.rows.encoder("claim_fence" if seq else "claim_fence_none")
        (fenced,) = fence.partitions([(seq, shard, seq) if seq else (shard,)])
        pending = {t.transaction_id: (t, token) for t, token in members}
        found: dict[uuid.UUID, Any] = {}
        logged = [time_of(token.time) for _t, token in members if token.version == 1]  # random: no time
        oldest = min(logged, default=None)
        for _round in range(_CLAIM_ROUNDS):
            if not pending:
                break
            within = None if oldest is None else (oldest + CLAIM_DEADLINE - datetime.now(UTC)).total_seconds()
            # Past the deadline repair may have judged the log row: a claim under it could go untold.
            if within is not None and within <= 0:
                some = any(answer is True for answer in found.values())  # an earlier try of ours applied
                late = (NotConfirmed if some else NotClaimed)(
                    "the claims waited too long; the rest were not made (retry with the same ids)"
                )
                found.update(dict.fromkeys(pending, late))
                return found
            # Marked idempotent so the driver may also send it to a second coordinator when
            # the first is silent: of two executions at most one applies (IF NOT EXISTS), and
            # whichever answer arrives, a claim stored under our log token reads as ours below,
            # while another writer's claim (other token) stays a duplicate or a conflict.
            rows = [
                (txid, t.payload_hash, t.legs_json(), len(t.legs), to_epoch_ms(t.recorded_at), token)
                for txid, (t, token) in pending.items()
            ]
            batch = batch_of([claim.partition((shard,), rows), fenced], conditional=True)
            result = await self._execute(batch, within=within)
            if result.rows and result.rows[0][0]:  # [applied]
                found.update(dict.fromkeys(pending, True))
                return found
            moved = fence_in(result.column_names, result.rows)
            if moved < seq:  # a change is recorded but has not raised this fence yet: raise it
                await self._limits.raise_fence(shard + 1, seq, first=shard)
                continue
            # Some ids were taken (ours among them when an earlier try applied unanswered): read
            # what is stored (serially, so a concurrent claim is seen whole), set those aside and
            # claim the rest in a new round, or, when the limits changed, give them back.
            for txid, (transaction, claimed) in (await self.claims(shard, list(pending))).items():
                found[txid] = True if claimed == pending[txid][1] else transaction
                pending.pop(txid, None)
            if moved != seq:  # these claims must be checked against the new limits
                found.update(dict.fromkeys(pending, FenceMoved(moved)))
                return found
        if pending:
            raise StoreUnavailable("claims kept colliding with concurrent writers; retry with the same ids")
        return found

    async def claim_one(self, shard: int, seq: int, claim: RecordedTransaction, token: uuid.UUID) -> Any:
        """Claim one row (a hold, or a hold's outcome) in the shard's next round, behind the fence
        of limits change ``seq``: True (this write's), the claim found under its id, FenceMoved."""
        (answer,) = await self._queues.claim_all([((shard, seq), (claim, token))])
        if isinstance(answer, BaseException):
            raise answer
        return answer

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
        """Log, reserve, claim, materialise, then post and mark done (after answering); one
        outcome per submission, in order. Sets whose claims met a raised limits fence are tried
        again against the new limits."""
        if not transactions:
            return []
        unique, repeats = first_of_each_id(transactions)
        # Every row is bound (encoded) before the log and the claims: a value the driver cannot
        # encode fails here, never after an id is claimed (a claim without rows fails verify).
        prebound: BoundRows | None = await self.rows.bind(materialise(unique, policy))
        outcomes: dict[uuid.UUID, RecordOutcome] = {}
        todo = unique
        for _attempt in range(FENCE_ATTEMPTS):
            view = await self._limits.view()
            todo = await self._attempt(todo, view, policy, complete_duplicates, now, outcomes, prebound)
            if not todo:
                return in_submitted_order(transactions, repeats, outcomes)
            prebound = None
            await self._limits.refresh()
        message = "the account limits kept changing during the write; retry with the same ids"
        raise NotConfirmed(message) if outcomes else StoreUnavailable(message)

    async def _attempt(
        self,
        unique: list[RecordedTransaction],
        view: LimitView,
        policy: SealPolicy,
        complete_duplicates: bool,
        now: datetime,
        outcomes: dict[uuid.UUID, RecordOutcome],
        prebound: Any,
    ) -> list[RecordedTransaction]:
        """One try against the limits of ``view``: fills ``outcomes``; returns the sets whose
        claims met a raised fence."""
        moves: dict[uuid.UUID, list[HeadMove]] = {}
        if view.limits:
            moves = {t.transaction_id: found for t in unique if (found := moves_of(t, view.limits))}
        shards = await self._shards()
        log_key = await self.log(unique, moves)
        token = log_key[2]
        at = {t.transaction_id: t.recorded_at for t in unique if t.transaction_id in moves}
        refused = await self._limits.reserve(view, token, moves, times=at) if moves else {}
        retried: list[RecordedTransaction] = []
        if refused and await self._limits.stale(view):  # refused by limits since changed: again
            retried = [t for t in unique if t.transaction_id in refused]
            refused = {}
        again = {t.transaction_id for t in retried}
        claimable = [t for t in unique if t.transaction_id not in refused and t.transaction_id not in again]
        for transaction in unique:
            if transaction.transaction_id in refused:
                outcomes[transaction.transaction_id] = RecordOutcome(
                    transaction, False, refused=refused[transaction.transaction_id]
                )
        if moves and datetime.now(UTC) - time_of(token.time) > CLAIM_DEADLINE:
            await self._limits.settle(token, moves, post=False)  # repair may release them soon
            raise StoreUnavailable("reserving at the heads took too long; nothing was written (retry)")
        queued = [((shard_of(t.transaction_id, shards), view.seq), (t, token)) for t in claimable]
        answers = await self._queues.claim_all(queued) if queued else []
        fresh: list[RecordedTransaction] = []
        earlier: list[RecordedTransaction] = []
        fenced: list[RecordedTransaction] = []
        for transaction, answer in zip(claimable, answers, strict=True):
            if isinstance(answer, FenceMoved):
                fenced.append(transaction)
                continue
            if isinstance(answer, BaseException):
                await self._after_failed_claims(claimable, token, moves, shards)
                raise _after_claiming(answer)
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
        posted = {t.transaction_id for t in fresh}
        post = {txid: found for txid, found in moves.items() if txid in posted}
        release = {txid: found for txid, found in moves.items() if txid not in posted and txid not in refused}
        try:
            if prebound is not None and len(fresh) == len(unique):  # the common case: what was bound
                await self.rows.send(prebound)
            else:
                await self.rows.write(materialise(fresh, policy))
            if complete_duplicates and earlier:
                # The claim may have outlived rows that never landed: writing the identical rows
                # again is a no-op when they did and completes the set when they did not.
                await self.rows.write(materialise(earlier, policy, completed_at=now), use_cache=False)
        except BaseException as error:  # the heads are settled all the same; repair completes the rows
            self.finish_later(log_key, post, release, mark=False)
            raise _after_claiming(error) from None
        self.finish_later(log_key, post, release)
        return fenced + retried

    async def _after_failed_claims(
        self,
        claimable: list[RecordedTransaction],
        token: uuid.UUID,
        moves: dict[uuid.UUID, list[HeadMove]],
        shards: int,
    ) -> None:
        """A claim round failed: if a serial read shows none of this write's sets claimed by it
        (after which none can be: the read's round supersedes any left in flight), its
        reservations are released now; otherwise they stay for repair to post or release."""
        if not moves:
            return
        try:
            by_shard: dict[int, list[uuid.UUID]] = defaultdict(list)
            for transaction in claimable:
                by_shard[shard_of(transaction.transaction_id, shards)].append(transaction.transaction_id)
            for shard, ids in by_shard.items():
                for i in range(0, len(ids), CLAIM_READ_GROUP):
                    found = await self.claims(shard, ids[i : i + CLAIM_READ_GROUP])
                    if any(claimer == token for _transaction, claimer in found.values()):
                        return
            await self._limits.settle(token, moves, post=False)
        except Exception as error:  # the node is still failing: repair settles them later
            log.warning("reservations of a failed write were left for repair: %s", type(error).__name__)

    def finish_later(
        self,
        key: LogKey,
        post: dict[uuid.UUID, list[HeadMove]] | None = None,
        release: dict[uuid.UUID, list[HeadMove]] | None = None,
        *,
        mark: bool = True,
    ) -> None:
        """Post the claimed sets at their heads, release the rest, then mark the log row done,
        without holding the answer for it (a reservation counts until posted, so nothing can
        spend money meanwhile; what never lands, repair does)."""
        task = asyncio.ensure_future(self._finish(key, post or {}, release or {}, mark))
        self._marking.add(task)
        task.add_done_callback(self._marking.discard)

    async def _finish(
        self,
        key: LogKey,
        post: dict[uuid.UUID, list[HeadMove]],
        release: dict[uuid.UUID, list[HeadMove]],
        mark: bool,
    ) -> None:
        try:
            if post or release:
                await asyncio.gather(
                    self._limits.settle(key[2], post, post=True),
                    self._limits.settle(key[2], release, post=False),
                )
            if mark:
                await self._execute(await self._prepare("log_done"), key)
        except Exception as error:  # repair completes the group again and marks it then
            log.warning("a claim log row was not finished (repair will): %s", type(error).__name__)

    async def settle(self) -> None:
        """Wait for the marks in flight now (before reading the log, and at close); waiting
        never cancels them."""
        if self._marking:
            await asyncio.wait(set(self._marking))

    async def log(
        self,
        unique: list[RecordedTransaction],
        moves: dict[uuid.UUID, list[HeadMove]] | None = None,
        settles: frozenset[uuid.UUID] = frozenset(),
    ) -> LogKey:
        """Log the ids about to be claimed (before any claim: repair trusts only this log) under a
        time-based batch id of the log write's own time (a restore's sets were recorded long ago;
        repair and the change feed read windows by the time of the write). A row acknowledged
        later than LOG_DEADLINE is abandoned (marked done, nothing claimed under it) and the ids
        logged again, so a change feed reader never sees a row appear behind its settled cursor.
        The row names the heads each set reserves at, for repair to settle, and (``settles``)
        the ids that are holds given an outcome rather than claims."""
        ids = [t.transaction_id for t in unique]
        heads = {txid: [str(move.account) for move in found] for txid, found in (moves or {}).items()}
        for _attempt in range(_LOG_ATTEMPTS):
            moment = datetime.now(UTC)
            window = window_of(moment)
            key = (window, random.randrange(CLAIM_LOG_SLOTS), batch_id_at(moment))
            if settles:
                values = (*key, ids, heads, set(settles))
                writes: list[Awaitable[Any]] = [self._execute(await self._prepare("log_settles"), values)]
            elif heads:
                writes = [self._execute(await self._prepare("log_claims_heads"), (*key, ids, heads))]
            else:
                writes = [self._execute(await self._prepare("log_claims"), (*key, ids))]
            if window not in self._known_windows:
                writes.append(self._windows.note(window))
            await asyncio.gather(*writes)
            self._known_windows.add(window)
            if datetime.now(UTC) - moment <= LOG_DEADLINE:
                return key
            self.finish_later(key)
        raise StoreUnavailable("the claim log answered too slowly; nothing was written (retry)")


class NotClaimed(StoreUnavailable):
    """Claims that were never attempted: nothing of them was written."""


def _after_claiming(error: BaseException) -> BaseException:
    """What a failure once claims were tried tells the caller: a claim may have landed, so never
    "nothing written" (unless none was attempted); refusals and cancellations pass unchanged."""
    if isinstance(error, StoreUnavailable) and not isinstance(error, NotConfirmed | NotClaimed):
        return NotConfirmed(str(error))
    return error


def fence_in(columns: list[str], rows: list[Any]) -> int:
    """The fence a refused claim batch found (0: none ever raised)."""
    if "limits_seq" not in columns:
        return 0
    index = columns.index("limits_seq")
    values = [row[index] for row in rows if row[index] is not None]
    return int(values[0]) if values else 0


def repair_watermark(now: datetime) -> int:
    """The first window a repair run at ``now`` still re-reads next time (two windows of grace
    for writers whose clocks lag or whose writes are still retrying)."""
    return window_of(now - 2 * CLAIM_WINDOW)
