"""Holds on Cassandra: placed as claims, settled once by an outcome claim, read back with it.

Why this shape: a hold and a set share the claims, so one IF NOT EXISTS keeps their ids apart,
and an outcome is a claim under an id derived from the hold's, so capture, void and expiry race
for one row and exactly one wins, behind the limits fence like any claim. At a bounded account
a hold is a reservation (with its expiry) at the head; a capture reserves its own amounts as if
the hold's were gone, then posts them and releases the hold's (docs/holds.md).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ...domain.address import parse_address
from ...domain.blocks import SealPolicy
from ...domain.claims import CLAIM_READ_GROUP, shard_of
from ...domain.errors import ConflictingResubmission, NotFound, StoreUnavailable
from ...domain.holds import Hold, HoldOutcome, HoldRefused, Pending, check_capture, pending_by_account
from ...domain.limits import net_movement
from ...domain.materialise import materialise
from ...domain.model import Address, RecordedTransaction
from ...domain.money import MONEY_CONTEXT, ZERO
from ...domain.timeutil import to_epoch_ms
from .cql import transaction_from_row
from .feed import time_of
from .hold_rows import (
    StoredHold,
    StoredOutcome,
    first_outcome,
    held_hash,
    hold_claim,
    hold_from_claim,
    is_hold_claim,
    outcome_claim,
    outcome_ids,
    outcome_of,
    with_outcome,
)
from .limits import CassandraLimits, FenceMoved, HeadMove, LimitView, moves_of, reservation, settled_move
from .open_holds import HoldLists
from .repair import unfinished_row
from .rows import Execute, Prepare
from .writes import FENCE_ATTEMPTS, RESERVATION_GRACE, ClaimWriter, LogKey

log = logging.getLogger("ledger_tui.holds")


class CassandraHolds:
    """Place, settle, sweep and read the holds of one Cassandra ledger."""

    def __init__(
        self,
        execute: Execute,
        prepare: Prepare,
        serial: int,
        shards: Callable[[], Awaitable[int]],
        writer: ClaimWriter,
        limits: CassandraLimits,
    ) -> None:
        self._execute = execute
        self._prepare = prepare
        self._serial = serial
        self._shards = shards
        self._writer = writer
        self._limits = limits
        self.lists = HoldLists(execute, prepare, shards)
        writer.repair_settles = self.repair
        limits.held_at = self.held_at

    # -- reading -----------------------------------------------------------------------------

    async def _claims(
        self, shard: int, ids: list[uuid.UUID], serial: bool
    ) -> dict[uuid.UUID, tuple[Any, ...]]:
        """The claim rows under ``ids`` (one shard); ``serial``: a claim in flight is seen whole
        or not at all."""
        found: dict[uuid.UUID, tuple[Any, ...]] = {}
        for i in range(0, len(ids), CLAIM_READ_GROUP):
            statement = (await self._prepare("get_claims")).bind((shard, ids[i : i + CLAIM_READ_GROUP]))
            if serial:
                statement.consistency_level = self._serial
            for row in (await self._execute(statement)).rows:
                found[row[0]] = tuple(row)
        return found

    async def stored(self, hold_ids: list[uuid.UUID], serial: bool = False) -> dict[uuid.UUID, StoredHold]:
        """The holds under ``hold_ids`` with their outcomes (ids that are no hold are left out).
        Read serially where a claim still in flight must be settled first (repair, a new head);
        elsewhere the outcome claim itself decides any race a plain read misses."""
        shards = await self._shards()
        by_shard: dict[int, list[uuid.UUID]] = {}
        for hold_id in hold_ids:
            by_shard.setdefault(shard_of(hold_id, shards), []).extend(
                [hold_id, *outcome_ids(hold_id, shards)]
            )
        reads = await asyncio.gather(*(self._claims(shard, ids, serial) for shard, ids in by_shard.items()))
        in_shard = dict(zip(by_shard, reads, strict=True))  # one id may have a row in two shards
        holds: dict[uuid.UUID, StoredHold] = {}
        for hold_id in hold_ids:
            rows = in_shard[shard_of(hold_id, shards)]
            row = rows.get(hold_id)
            if row is None or not is_hold_claim(transaction_from_row(row)):
                continue
            holds[hold_id] = hold_from_claim(row, outcome_of(hold_id, rows, shards))
        return holds

    async def read(self, hold_id: uuid.UUID) -> Hold | None:
        """A hold and its outcome, or None."""
        found = (await self.stored([hold_id])).get(hold_id)
        return None if found is None else found.hold

    async def captured(self, hold_id: uuid.UUID) -> RecordedTransaction | None:
        """The set a hold's capture recorded under its id, or None."""
        found = (await self.stored([hold_id])).get(hold_id)
        return None if found is None or found.outcome is None else found.outcome.capture

    async def read_all(self, open_only: bool) -> list[Hold]:
        """Holds oldest first: those the open list names (an outcome takes a hold off it), or
        every one."""
        listed = [hold_id for hold_id, _shard in await self.lists.listed(open_only)]
        holds = [found.hold for found in (await self.stored(listed)).values()]
        return sorted(holds, key=lambda h: (h.transaction.recorded_at, str(h.hold_id)))

    async def pending(self, at: datetime) -> dict[Address, Pending]:
        """Pending debits and credits per account of the holds pending at ``at``."""
        return pending_by_account(await self.read_all(open_only=True), at)

    async def held_at(self, account: Address) -> tuple[tuple[str, str], ...]:
        """The reservations the open holds with a leg on ``account`` make there (for a head made
        after they were placed): key and value as the head's map keeps them."""
        found: list[tuple[str, str]] = []
        for stored in (await self.stored(await self.lists.open_at(account), serial=True)).values():
            hold = stored.hold
            if hold.outcome is not None or stored.claimed_by is None:  # expiry is judged when read
                continue
            debits, credits = net_movement(hold.transaction.legs, account)
            net = MONEY_CONTEXT.subtract(credits, debits)
            if net:
                value = f"{max(ZERO, -net)}|{max(ZERO, net)}|{to_epoch_ms(hold.expires_at)}"
                found.append((reservation(stored.claimed_by, hold.hold_id), value))
        return tuple(sorted(found))

    # -- placing -----------------------------------------------------------------------------

    async def place(self, transaction: RecordedTransaction, expires_at: datetime) -> tuple[Hold, bool]:
        """Hold a set until ``expires_at``; (the hold, whether it was placed before)."""
        hold_id = transaction.transaction_id
        shard = shard_of(hold_id, await self._shards())
        await self.lists.open(transaction)  # before the claim: readers confirm by the claim
        for _attempt in range(FENCE_ATTEMPTS):
            view = await self._limits.view()
            moves = moves_of(transaction, view.limits)
            key = await self._writer.log([transaction], {hold_id: moves} if moves else None)
            token = key[2]
            reserved = {hold_id: moves} if moves else {}
            times = {hold_id: transaction.recorded_at}
            if not await self._reserve(view, key, reserved, until=expires_at, times=times):
                continue
            claim = hold_claim(transaction, expires_at)
            answer = await self._writer.claim_one(shard, view.seq, claim, token)
            if answer is True:
                self._writer.finish_later(key)  # the reservation stays until the hold's outcome
                return Hold(transaction, expires_at), False
            self._writer.finish_later(key, release=reserved)
            if isinstance(answer, FenceMoved):
                await self._limits.refresh()
                continue
            if not is_hold_claim(answer) or held_hash(answer) != transaction.payload_hash:
                raise ConflictingResubmission(hold_id)
            found = await self.read(hold_id)
            assert found is not None
            return found, True
        raise StoreUnavailable("the account limits kept changing while holding; retry with the same id")

    async def _reserve(
        self, view: LimitView, key: LogKey, reserved: dict[uuid.UUID, list[HeadMove]], **options: Any
    ) -> bool:
        """Reserve a hold's or a capture's moves at its heads, after its log row: False when the
        limits that refused it have changed since (try again). A refusal under the current limits
        is raised; so is a reservation that took so long that repair may release it before the
        claim lands (as a set's write does)."""
        if not reserved:
            return True
        refused = await self._limits.reserve(view, key[2], reserved, **options)
        if refused:
            self._writer.finish_later(key)
            if not await self._limits.stale(view):
                raise next(iter(refused.values()))
            await self._limits.refresh()
            return False
        if datetime.now(UTC) - time_of(key[2].time) > RESERVATION_GRACE / 2:
            self._writer.finish_later(key, release=reserved)
            raise StoreUnavailable("reserving at the heads took too long; nothing was written (retry)")
        return True

    # -- settling ----------------------------------------------------------------------------

    async def settle(
        self,
        hold_id: uuid.UUID,
        wanted: HoldOutcome,
        now: datetime,
        capture: RecordedTransaction | None,
        policy: SealPolicy,
    ) -> tuple[Hold, bool]:
        """Give a hold its one outcome; (the hold, whether it had this outcome already). A hold
        past its expiry is recorded expired and the capture or void refused."""
        stored = (await self.stored([hold_id])).get(hold_id)
        if stored is None:
            raise NotFound(f"no hold {hold_id}")
        if stored.outcome is None and now >= stored.hold.expires_at:
            expiry = stored.hold.expires_at
            stored, _mine = await self._decide(stored, HoldOutcome.EXPIRED, expiry, None, policy)
        if stored.outcome is None:
            if capture is not None:
                check_capture(stored.hold.transaction.legs, capture.legs)
            stored, mine = await self._decide(stored, wanted, now, capture, policy)
            if mine:
                return stored.hold, False
        hold = stored.hold
        assert hold.outcome is not None and hold.outcome_at is not None
        if await self.lists.is_open(hold_id):  # off the open list: its outcome was completed
            await self._complete_cut_short(stored, policy)
        if hold.outcome is wanted:
            return hold, True
        when = hold.outcome_at.isoformat(timespec="milliseconds")
        verb = "capture" if wanted is HoldOutcome.CAPTURED else "void"
        raise HoldRefused(f"cannot {verb} hold {hold_id}: it was {hold.outcome.value} at {when}")

    async def _decide(
        self,
        stored: StoredHold,
        outcome: HoldOutcome,
        at: datetime,
        capture: RecordedTransaction | None,
        policy: SealPolicy | None,
    ) -> tuple[StoredHold, bool]:
        """Try to record ``outcome`` (at a bounded account a capture first reserves its own amounts
        as if the hold's were gone): the hold with whichever outcome won, and whether this one
        did. The winner's rows are written and its heads settled before it answers; what a crash
        cuts short, repair completes from the log row."""
        hold_id = stored.hold.hold_id
        shards = await self._shards()
        shard = shard_of(hold_id, shards)
        for _attempt in range(FENCE_ATTEMPTS):
            view = await self._limits.view()
            moves = [] if capture is None else moves_of(capture, view.limits)
            accounts = sorted({m.account for m in moves} | set(_hold_heads(stored, view)), key=str)
            logged = {hold_id: [HeadMove(a, None, ZERO, ZERO) for a in accounts]} if accounts else None
            key = await self._writer.log([stored.hold.transaction], logged, settles=frozenset([hold_id]))
            token = key[2]
            reserved = {hold_id: moves} if moves else {}
            if not await self._reserve(view, key, reserved, excluding=str(hold_id), times={hold_id: at}):
                continue
            claim = outcome_claim(hold_id, outcome, at, capture, shards)
            answer = await self._writer.claim_one(shard, view.seq, claim, token)
            if isinstance(answer, FenceMoved):
                self._writer.finish_later(key, release=reserved)
                await self._limits.refresh()
                continue
            if answer is not True:  # another outcome came first: its write settles the hold
                self._writer.finish_later(key, release=reserved)
                return with_outcome(stored, first_outcome(hold_id, answer)), False
            mine = StoredOutcome(hold_id, outcome, at, capture, token)
            await self._complete(key, stored, mine, policy, accounts)
            self._writer.finish_later(key)
            return with_outcome(stored, mine), True
        raise StoreUnavailable("the account limits kept changing while settling the hold; retry")

    async def _complete(
        self,
        key: LogKey,
        stored: StoredHold,
        outcome: StoredOutcome,
        policy: SealPolicy | None,
        accounts: list[Address],
        completed_at: datetime | None = None,
    ) -> None:
        """After this write recorded an outcome: the captured set's rows, its reservations posted
        and the hold's released at ``accounts``, the hold off the open list. ``completed_at``:
        when repair completes it (its days may have been sealed without it since)."""
        hold_id = stored.hold.hold_id
        capture = outcome.capture
        if capture is not None:
            assert policy is not None, "a capture writes rows, and rows need the seal policy"
            rows = materialise([capture], policy, completed_at=completed_at)
            await self._writer.rows.write(rows, use_cache=False)
            post = {hold_id: [settled_move(capture, account) for account in accounts]}
            await self._limits.settle(key[2], post, post=True)
        if accounts and stored.claimed_by is not None:
            release = {hold_id: [HeadMove(a, None, ZERO, ZERO) for a in accounts]}
            await self._limits.settle(stored.claimed_by, release, post=False)
        await self.lists.close(stored.hold.transaction)

    async def _complete_cut_short(self, stored: StoredHold, policy: SealPolicy) -> None:
        """Complete an outcome whose write was cut short after its claim (its log row not done),
        as repair would: a retry answered "repeated", and the sweeper a server runs, find the
        outcome recorded, and its rows and heads must then be in place, not wait for a repair."""
        outcome = stored.outcome
        if outcome is None or outcome.claimed_by is None:
            return
        row = await unfinished_row(self._execute, self._prepare, outcome.claimed_by)
        if row is None:
            return
        key, _ids, heads, settles = row
        if await self.repair(key, settles, heads, datetime.now(UTC), policy):
            await self._execute(await self._prepare("log_done"), key)

    # -- sweeping and repair ---------------------------------------------------------------------

    async def sweep(self, now: datetime, policy: SealPolicy) -> int:
        """Record every open hold past its expiry as expired, and complete the holds with an
        outcome and take them off the open list; how many expiries this sweep recorded."""
        listed = await self.lists.listed(open_only=True)
        found = await self.stored([hold_id for hold_id, _shard in listed])
        expired = 0
        for hold_id, _shard in listed:
            stored = found.get(hold_id)
            if stored is None:
                continue  # a placement in flight, or one that never claimed: nothing to record
            if stored.outcome is None and now >= stored.hold.expires_at:
                expiry = stored.hold.expires_at
                try:
                    _, mine = await self._decide(stored, HoldOutcome.EXPIRED, expiry, None, None)
                except HoldRefused as refused:  # the others are still swept
                    log.warning("%s", refused)
                    continue
                expired += mine
            elif stored.outcome is not None:
                await self._complete_cut_short(stored, policy)
                await self.lists.close(stored.hold.transaction)
        return expired

    async def repair(
        self,
        key: LogKey,
        settles: frozenset[uuid.UUID],
        heads: dict[uuid.UUID, list[str]],
        now: datetime,
        policy: SealPolicy,
    ) -> bool:
        """Complete an outcome this log row's write recorded (rows, heads, open list); release what
        it reserved when another outcome won, or, once the row is older than the grace, when
        none was recorded. False: a row too young to judge yet."""
        token = key[2]
        found = await self.stored(list(settles), serial=True)
        done = True
        for hold_id in settles:
            stored = found.get(hold_id)
            accounts = [parse_address(text) for text in heads.get(hold_id, [])]
            outcome = None if stored is None else stored.outcome
            if stored is not None and outcome is not None and outcome.claimed_by == token:
                await self._complete(key, stored, outcome, policy, accounts, completed_at=now)
                continue
            if outcome is None and now - time_of(token.time) <= RESERVATION_GRACE:
                done = False
                continue
            ours = {hold_id: [HeadMove(a, None, ZERO, ZERO) for a in accounts]}
            await self._limits.settle(token, ours, post=False)
        return done


def _hold_heads(stored: StoredHold, view: LimitView) -> list[Address]:
    """The bounded accounts where the hold may hold a reservation."""
    return [move.account for move in moves_of(stored.hold.transaction, view.limits)]
