"""Account limits on Cassandra: the history, the fence every claim is checked against, and the
heads a write reserves at before its set is claimed (docs/limits.md).

Why a fence and not a polled history: a writer learns of a limit change exactly when a claim of
its is refused by the fence the change raised in every claim shard, so no set is ever claimed
against limits its writer has not seen, and writers never read the history while nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from ...domain.address import AddressPattern
from ...domain.blocks import SealPolicy
from ...domain.errors import StoreUnavailable
from ...domain.limits import (
    Head,
    Limit,
    LimitChange,
    LimitExceeded,
    Limits,
    current_limits,
    net_movement,
    parse_limit_pattern,
)
from ...domain.model import Address, RecordedTransaction
from ...domain.money import MONEY_CONTEXT, ZERO
from ...domain.timeutil import from_epoch_ms, to_epoch_ms
from ..base import Store
from .heads import (
    CREATE,
    DROP,
    POST,
    POST_DELAY_S,
    RELEASE,
    RESERVE,
    HeadBook,
    HeadMissing,
    HeadOp,
    HeadState,
    fold_account,
)
from .rows import Execute, Prepare

#: The ledger setting naming the last limit change whose fence and repair are complete: a writer
#: that knows a later one waits before it makes a missing head.
READY_SETTING = "limits_ready"
#: How long a writer waits for a limit change in progress before it answers "retry".
_WAIT_FOR_CHANGE_S = 20.0
_APPEND_ROUNDS = 20


class FenceMoved(Exception):
    """A claim shard's fence is past the limits its claim was checked against: read them again."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"limits changed (now {seq} changes)")
        self.seq = seq


@dataclass(frozen=True, slots=True)
class LimitView:
    """The limits as a writer last read them: how many changes, the limits in force, and the
    history they come from."""

    seq: int
    limits: Limits
    history: tuple[LimitChange, ...] = ()
    _since: dict[Address, int] = field(default_factory=dict, compare=False, repr=False)

    def bounded_since(self, account: Address) -> int:
        """The number of the change from which the account has been bounded without a break (0:
        never bounded): a head made before it may have missed sets posted while it was not."""
        found = self._since.get(account)
        if found is None:
            bounding: dict[AddressPattern, bool] = {}
            found = 0
            for number, change in enumerate(self.history, start=1):
                if not change.limit.pattern.matches(account):
                    continue
                was = any(bounding.values())
                bounding[change.limit.pattern] = not change.cleared
                if any(bounding.values()) and not was:
                    found = number
            self._since[account] = found
        return found


@dataclass(frozen=True, slots=True)
class HeadMove:
    """What a set moves on one bounded account (net: one of the two is zero)."""

    account: Address
    limit: Limit | None
    debits: Decimal
    credits: Decimal


def moves_of(transaction: RecordedTransaction, limits: Limits) -> list[HeadMove]:
    """The heads a set moves, in account order (a bounded account it leaves unchanged is not one)."""
    found: list[HeadMove] = []
    for account, limit in sorted(limits.bounded(transaction.legs).items(), key=lambda item: str(item[0])):
        debits, credits = net_movement(transaction.legs, account)
        net = MONEY_CONTEXT.subtract(credits, debits)
        if net:
            found.append(HeadMove(account, limit, max(ZERO, -net), max(ZERO, net)))
    return found


def settled_move(transaction: RecordedTransaction, account: Address) -> HeadMove:
    """What a claimed set moves on ``account`` (to post it; the bound no longer matters)."""
    debits, credits = net_movement(transaction.legs, account)
    net = MONEY_CONTEXT.subtract(credits, debits)
    return HeadMove(account, None, max(ZERO, -net), max(ZERO, net))


def reservation(attempt: uuid.UUID, txid: uuid.UUID) -> str:
    """The key of one write attempt's reservation for one set."""
    return f"{attempt}:{txid}"


class CassandraLimits:
    """The limit history, the claim fence and the heads, as one Cassandra ledger keeps them."""

    def __init__(
        self,
        execute: Execute,
        prepare: Prepare,
        serial: int,
        store: Store,
        shards: Callable[[], Awaitable[int]],
    ) -> None:
        self._execute = execute
        self._prepare = prepare
        self._serial = serial
        self._store = store
        self.heads = HeadBook(execute, prepare, serial, shards)
        self._view: LimitView | None = None
        #: The reservations of the open holds at an account, for a head made after they were
        #: placed (set by the store's holds; none without them).
        self.held_at: Callable[[Address], Awaitable[tuple[tuple[str, str], ...]]] = _no_holds

    # -- a change ------------------------------------------------------------------------------

    async def change(self, change: LimitChange, shards: int, policy: SealPolicy) -> LimitChange:
        """Record ``change`` and make it hold: raise every claim shard's fence (no set is claimed
        against the old limits after that), complete every set claimed before it (repair), drop
        every head of an account no limit bounds any more (a head is made again from the entries
        when its account is bounded again), then say it is ready (a writer that knows it makes
        a missing head from the account's entries from then on). A change cut short is completed
        by making it again."""
        made = await self.append(change)
        await self.raise_fence(shards, made.sequence)
        await self._store.repair(policy, datetime.now(UTC))
        # Judged by every change recorded by now, later ones too: one that bounds an account again
        # may be in force already, with writes reserving at its head (a stale head is made again
        # anyway: a head made before its account's present bounded stretch is not trusted).
        after = current_limits(await self.history())
        for account in await self.heads.accounts():  # every head the limits no longer bound
            if after.covering(account) is None:
                with contextlib.suppress(HeadMissing):
                    await self.heads.apply(account, [HeadOp(DROP)])
        await self._mark_ready(made.sequence)
        await self.refresh()
        return made

    async def _mark_ready(self, seq: int) -> None:
        for _ in range(_APPEND_ROUNDS):
            stored = await self._store.keep_setting(READY_SETTING, str(seq))
            if int(stored) >= seq:
                return
            if await self._store.replace_setting(READY_SETTING, stored, str(seq)) == str(seq):
                return
        raise StoreUnavailable("limit changes kept colliding with concurrent ones; run this one again")

    async def read_heads(self, accounts: Sequence[Address], at: datetime) -> dict[Address, Head]:
        """The heads of those of ``accounts`` the limits bound, holds counted as pending ``at`` (a
        bounded account with no head yet: its balance from its entries and its open holds)."""
        limits = (await self.refresh()).limits
        found: dict[Address, Head] = {}
        for account in accounts:
            if limits.covering(account) is None:
                continue
            state = await self.heads.read(account)
            if state is None:
                state = HeadState(await fold_account(self._store, account), dict(await self.held_at(account)))
            found[account] = state.head(to_epoch_ms(at))
        return found

    # -- the history and the view ----------------------------------------------------------------

    async def history(self) -> list[LimitChange]:
        """Every limit change, oldest first (read serially: a change just made is seen)."""
        statement = (await self._prepare("limit_history")).bind(())
        statement.consistency_level = self._serial
        statement.fetch_size = None
        rows = (await self._execute(statement)).rows
        return [
            LimitChange(Limit(parse_limit_pattern(pattern), low, high), by, from_epoch_ms(at), seq)
            for seq, pattern, low, high, by, at in rows
        ]

    async def view(self) -> LimitView:
        """The limits as this process knows them (read once; again when a fence says so)."""
        if self._view is None:
            return await self.refresh()
        return self._view

    async def refresh(self) -> LimitView:
        """Read the history again."""
        history = await self.history()
        self._view = LimitView(len(history), current_limits(history), tuple(history))
        return self._view

    async def stale(self, view: LimitView) -> bool:
        """Whether the limits changed since ``view`` was read (asked before answering a refusal)."""
        return len(await self.history()) != view.seq

    async def append(self, change: LimitChange) -> LimitChange:
        """Record a change as the next in the history (concurrent changes take turns; an insert
        that applied although its answer was lost is found again, not made twice)."""
        insert = await self._prepare("add_limit_change")
        limit = change.limit
        for _ in range(_APPEND_ROUNDS):
            history = await self.history()
            values = (len(history) + 1, str(limit.pattern), limit.minimum, limit.maximum, change.changed_by)
            try:
                result = await self._execute(insert, (*values, change.changed_at))
            except StoreUnavailable:
                result = None
            if result is not None and result.rows and result.rows[0][0]:
                return LimitChange(change.limit, change.changed_by, change.changed_at, len(history) + 1)
            ours = (limit, change.changed_by, change.changed_at)
            for made in (await self.history())[len(history) :]:
                if (made.limit, made.changed_by, made.changed_at) == ours:
                    return made
            if result is None:
                raise StoreUnavailable("the limit history could not be written; nothing was changed (retry)")
        raise StoreUnavailable("limit changes kept colliding with concurrent ones; retry")

    # -- the fence -------------------------------------------------------------------------------

    async def raise_fence(self, shards: int, seq: int, first: int = 0) -> None:
        """Raise the fences of claim shards ``first`` to ``shards - 1`` to ``seq`` (never lowers
        one). A writer that knows a change whose fence is not raised yet raises its shard's."""
        for shard in range(first, shards):
            for _ in range(_APPEND_ROUNDS):
                current = await self.fence(shard)
                if current is not None and current >= seq:
                    break
                if current is None:
                    statement = (await self._prepare("claim_fence_set")).bind((seq, shard))
                else:
                    statement = (await self._prepare("claim_fence")).bind((seq, shard, current))
                result = await self._execute(statement)
                if result.rows and result.rows[0][0]:
                    break
            else:
                raise StoreUnavailable("a claim shard's fence kept changing; run the limit change again")

    async def fence(self, shard: int) -> int | None:
        """A shard's fence (None: no limit was ever set)."""
        statement = (await self._prepare("read_fence")).bind((shard,))
        statement.consistency_level = self._serial
        rows = (await self._execute(statement)).rows
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    # -- reserving and posting -------------------------------------------------------------------

    async def reserve(
        self,
        view: LimitView,
        attempt: uuid.UUID,
        moves: dict[uuid.UUID, list[HeadMove]],
        *,
        until: datetime | None = None,
        excluding: str = "",
        times: Mapping[uuid.UUID, datetime] | None = None,
    ) -> dict[uuid.UUID, LimitExceeded]:
        """Reserve every set's moves at its heads, sets in the given order on each account; a set
        refused at one account is released where it was reserved. The refused ones, by id. A
        hold's reservation counts only ``until`` its expiry; a capture's is checked as if every
        reservation of the hold it settles (``excluding``: the hold's id) were gone. Holds count as pending at
        each set's time in ``times`` (its recorded time: the ledger's now when it was made), else now."""
        until_ms = 0 if until is None else to_epoch_ms(until)
        now_ms = to_epoch_ms(datetime.now(UTC))
        at_ms = {txid: to_epoch_ms(moment) for txid, moment in (times or {}).items()}
        by_account: dict[Address, list[tuple[uuid.UUID, HeadMove]]] = {}
        for txid, found in moves.items():
            for move in found:
                by_account.setdefault(move.account, []).append((txid, move))

        async def at(account: Address) -> list[tuple[uuid.UUID, LimitExceeded | None]]:
            ops = [
                HeadOp(
                    RESERVE,
                    reservation(attempt, txid),
                    move.debits,
                    move.credits,
                    move.limit,
                    fresh_from=view.bounded_since(account),
                    until_ms=until_ms,
                    at_ms=at_ms.get(txid, now_ms),
                    excluding=excluding,
                )
                for txid, move in by_account[account]
            ]
            answers = await self._at_head(view, account, ops)
            return [(txid, answer) for (txid, _), answer in zip(by_account[account], answers, strict=True)]

        refused: dict[uuid.UUID, LimitExceeded] = {}
        decided = await asyncio.gather(
            *(at(account) for account in sorted(by_account, key=str)), return_exceptions=True
        )
        failed = [answer for answer in decided if isinstance(answer, BaseException)]
        if failed:  # some heads may hold this attempt's reservations: give them back
            with contextlib.suppress(Exception):
                await self.settle(attempt, moves, post=False)
            raise failed[0]
        for answers in decided:
            assert not isinstance(answers, BaseException)
            for txid, answer in answers:
                if answer is not None and txid not in refused:
                    refused[txid] = answer
        if refused:
            await self.settle(attempt, {txid: moves[txid] for txid in refused}, post=False)
        return refused

    async def settle(
        self, attempt: uuid.UUID, moves: Mapping[uuid.UUID, Sequence[HeadMove]], *, post: bool
    ) -> None:
        """Post (the sets were claimed by this attempt) or release its reservations; a head that
        is gone (its account no longer bounded) has nothing to settle."""
        by_account: dict[Address, list[HeadOp]] = {}
        for txid, found in moves.items():
            for move in found:
                op = HeadOp(POST if post else RELEASE, reservation(attempt, txid), move.debits, move.credits)
                by_account.setdefault(move.account, []).append(op)

        async def at(account: Address) -> None:
            with contextlib.suppress(HeadMissing):
                await self.heads.apply(account, by_account[account], defer=POST_DELAY_S if post else 0.0)

        await asyncio.gather(*(at(account) for account in by_account))

    async def _at_head(
        self, view: LimitView, account: Address, ops: list[HeadOp]
    ) -> list[LimitExceeded | None]:
        """Apply ``ops``, making the head first when the account has none yet (once the limit
        change that bounds it has raised every fence), or waiting for that change."""
        deadline = asyncio.get_running_loop().time() + _WAIT_FOR_CHANGE_S
        while True:
            try:
                return await self.heads.apply(account, ops)
            except HeadMissing:
                pass
            ready = int((await self._store.read_settings()).get(READY_SETTING, "0"))
            if ready >= view.bounded_since(account):  # the change that bounds it holds everywhere
                balance = await fold_account(self._store, account)
                fresh_from = view.bounded_since(account)
                held = await self.held_at(account)
                created = HeadOp(CREATE, credits=balance, fresh_from=fresh_from, since=view.seq, held=held)
                await self.heads.apply(account, [created])
                await self._release_settled(account, held)
                continue
            if asyncio.get_running_loop().time() > deadline:
                raise StoreUnavailable(f"the limit on {account} is still being applied; retry")
            await asyncio.sleep(0.2)

    async def _release_settled(self, account: Address, held: tuple[tuple[str, str], ...]) -> None:
        """Release what a new head was made with for holds given an outcome since it read them:
        a void landing between that read and the creation released at no head."""
        still = {key for key, _value in await self.held_at(account)}
        gone = [HeadOp(RELEASE, key) for key, _value in held if key not in still]
        if gone:
            with contextlib.suppress(HeadMissing):
                await self.heads.apply(account, gone)


async def _no_holds(account: Address) -> tuple[tuple[str, str], ...]:
    return ()
