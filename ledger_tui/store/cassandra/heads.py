"""Bounded accounts' heads on Cassandra: a write reserves at each before its set is claimed and
posts (or releases) after; the heads live in a fixed number of shard partitions, and every round
of decisions on a shard is one conditional update of the shard's version.

Why shards and a runner per busy shard: a consensus round per set would cap bounded writes at the
node's rounds per second; a runner decides every op waiting for its shard (many accounts, or many
sets of one hot account) in one round, in arrival order (docs/limits.md, bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cassandra.query import BatchStatement, BatchType

from ...domain.address import parse_address
from ...domain.errors import StoreUnavailable
from ...domain.limits import Head, Limit, LimitExceeded, check_head
from ...domain.model import Address, Side
from ...domain.money import MONEY_CONTEXT, ZERO
from ...domain.timeutil import TimeRange
from ..base import Store
from .rows import Execute, Prepare

#: Ops one round decides at most, and rounds tried before a busy shard gives up.
_ROUND_OPS = 512
_ROUNDS = 40
#: How long a post may wait for other ops of its shard to share a round: a reservation counts
#: until its post lands, so the wait changes no decision.
POST_DELAY_S = 0.05

RESERVE, POST, RELEASE, CREATE, DROP = "reserve", "post", "release", "create", "drop"


class HeadMissing(Exception):
    """The account is bounded but has no head yet (its limit is still being applied, or no
    write has made one): the caller makes it, or waits."""

    def __init__(self, account: Address) -> None:
        super().__init__(str(account))
        self.account = account


@dataclass(frozen=True, slots=True)
class HeadOp:
    """One decision asked of an account's head. ``key`` names the reservation (the write
    attempt and the set), so a post or release applies at most once and a repeated reserve
    finds its own reservation. ``create`` makes a missing head with ``credits`` as its balance,
    made under limits change ``since``; ``drop`` removes one. A reserve or create treats a head
    made before change ``fresh_from`` (the start of the account's present bounded stretch) as
    missing: it may have missed sets posted while the account was not bounded. A hold's
    reservation counts only before ``until_ms``, judged at ``at_ms``; a capture's reserve is
    checked as if every reservation of the hold it settles (``excluding``: the hold's id) were
    gone; a create starts with ``held``
    (the reservations of holds placed before the account was bounded)."""

    kind: str
    key: str = ""
    debits: Decimal = ZERO
    credits: Decimal = ZERO
    limit: Limit | None = None
    fresh_from: int = 0
    since: int = 0
    until_ms: int = 0
    at_ms: int = 0
    excluding: str = ""
    held: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class HeadState:
    """One account's head: its balance, the reservations in flight, and the limits change it
    was made under."""

    balance: Decimal
    reserved: dict[str, str] = field(default_factory=dict)
    since: int = 0

    def head(self, at_ms: int = 0, excluding: str = "") -> Head:
        """Balance and the reservations as pending debits and credits (a hold's only before its
        expiry, when ``at_ms`` is given; those of the set id ``excluding`` left out). The
        reservations of one set id count once, at their largest: at most one of them is ever
        posted (a set is claimed once; a hold's capture posts at most what the hold holds and
        releases the hold's), so racing writes of one id never count its money twice."""
        largest: dict[str, tuple[Decimal, Decimal]] = {}
        for key, value in self.reserved.items():
            set_id = key.rpartition(":")[2]
            debit, credit, *until = value.split("|")
            if set_id == excluding or (until and at_ms and int(until[0]) <= at_ms):
                continue
            was_debit, was_credit = largest.get(set_id, (ZERO, ZERO))
            largest[set_id] = (max(was_debit, Decimal(debit)), max(was_credit, Decimal(credit)))
        debits = credits = ZERO
        for debit_of, credit_of in largest.values():
            debits = MONEY_CONTEXT.add(debits, debit_of)
            credits = MONEY_CONTEXT.add(credits, credit_of)
        return Head(self.balance, debits, credits)


def reserved_value(debits: Decimal, credits: Decimal, until_ms: int = 0) -> str:
    """A reservation as a head's map keeps it (a hold's with its expiry)."""
    return f"{debits}|{credits}" + (f"|{until_ms}" if until_ms else "")


@dataclass(slots=True)
class ShardState:
    """A shard's version and the heads of it this process knows at that version."""

    version: int | None
    heads: dict[Address, HeadState | None] = field(default_factory=dict)


def head_key(account: Address) -> str:
    """The account as the heads table keys it (no part holds '/')."""
    return str(account)


def head_shard(account: Address, shards: int) -> int:
    """The shard of an account's head (a stable hash: every process agrees)."""
    return zlib.crc32(head_key(account).encode()) % shards


def decide(
    ops: list[tuple[Address, HeadOp]], heads: dict[Address, HeadState | None]
) -> tuple[dict[Address, HeadState | None], list[LimitExceeded | HeadMissing | None]]:
    """The heads after ``ops`` in order (None: no head), and each op's answer; a refused
    reserve, or an op on a missing head, changes nothing."""
    after: dict[Address, HeadState | None] = {
        a: None if h is None else HeadState(h.balance, dict(h.reserved), h.since) for a, h in heads.items()
    }
    answers: list[LimitExceeded | HeadMissing | None] = []
    for account, op in ops:
        state = after.get(account)
        answer: LimitExceeded | HeadMissing | None = None
        if op.kind == CREATE:
            if state is None or state.since < op.fresh_from:
                after[account] = HeadState(op.credits, dict(op.held), since=op.since)
        elif op.kind == DROP:
            after[account] = None
        elif state is None or (op.kind == RESERVE and state.since < op.fresh_from):
            answer = HeadMissing(account)
        elif op.kind == RESERVE and op.key not in state.reserved:
            assert op.limit is not None
            try:
                head = state.head(op.at_ms, op.excluding)
                check_head(account, op.limit, head, op.debits, op.credits, hold=True)
            except LimitExceeded as error:
                answer = error
            else:
                state.reserved[op.key] = reserved_value(op.debits, op.credits, op.until_ms)
        elif op.kind == POST and state.reserved.pop(op.key, None) is not None:  # else posted already
            state.balance = MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(state.balance, op.credits), op.debits)
        elif op.kind == RELEASE:
            state.reserved.pop(op.key, None)
        answers.append(answer)
    return after, answers


def _unwritten(ops: list[tuple[Address, HeadOp]], answers: list[Any]) -> bool:
    """Whether a round that changes nothing answers something only a fresh read may decide."""
    return any(answer is not None for answer in answers) or any(op.kind in (POST, RELEASE) for _, op in ops)


def _same(one: HeadState | None, other: HeadState | None) -> bool:
    if one is None or other is None:
        return one is other
    return (one.balance, one.reserved, one.since) == (other.balance, other.reserved, other.since)


class HeadBook:
    """Per-shard queues of head ops, each decided in its shard's next round."""

    def __init__(
        self, execute: Execute, prepare: Prepare, serial: int, shards: Callable[[], Awaitable[int]]
    ) -> None:
        self._execute = execute
        self._prepare = prepare
        self._serial = serial
        self._shards = shards
        self._waiting: dict[int, list[tuple[Address, HeadOp, asyncio.Future[Any]]]] = defaultdict(list)
        self._busy: set[int] = set()
        self._runners: set[asyncio.Task[None]] = set()
        self._known: dict[int, ShardState] = {}
        self._later: dict[int, asyncio.TimerHandle] = {}

    async def read(self, account: Address) -> HeadState | None:
        """An account's head as it stands (serial: a round in flight is seen whole or not at all)."""
        shard = head_shard(account, await self._shards())
        return (await self._read(shard, [account])).heads.get(account)

    async def accounts(self) -> list[Address]:
        """Every account that has a head, shard by shard."""
        found: list[Address] = []
        for shard in range(await self._shards()):
            statement = (await self._prepare("head_accounts")).bind((shard,))
            statement.consistency_level = self._serial
            statement.fetch_size = None
            found += [parse_address(row[0]) for row in (await self._execute(statement)).rows]
        return found

    async def _read(self, shard: int, accounts: list[Address]) -> ShardState:
        """The shard's version and the heads of ``accounts`` (serially)."""
        statement = (await self._prepare("read_heads")).bind((shard, [head_key(a) for a in accounts]))
        statement.consistency_level = self._serial
        rows = (await self._execute(statement)).rows
        state = ShardState(None, dict.fromkeys(accounts))
        by_key = {head_key(a): a for a in accounts}
        for version, key, balance, reserved, since in rows:
            state.version = None if version is None else int(version)
            state.heads[by_key[key]] = HeadState(balance, dict(reserved or {}), int(since or 0))
        if not rows:
            statement = (await self._prepare("read_head_version")).bind((shard,))
            statement.consistency_level = self._serial
            found = (await self._execute(statement)).rows
            state.version = None if not found or found[0][0] is None else int(found[0][0])
        return state

    async def apply(
        self, account: Address, ops: list[HeadOp], *, defer: float = 0.0
    ) -> list[LimitExceeded | None]:
        """Queue ``ops`` for ``account``; each one's answer once its round is decided (None:
        done). With ``defer``, the round waits that long for other ops to share it (anything
        not deferred starts it at once). Raises HeadMissing when the account has no head."""
        shard = head_shard(account, await self._shards())
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        for op in ops:
            future: asyncio.Future[Any] = loop.create_future()
            futures.append(future)
            self._waiting[shard].append((account, op, future))
        if shard not in self._busy:
            if defer > 0:
                if shard not in self._later:
                    self._later[shard] = loop.call_later(defer, self._start, shard)
            else:
                self._start(shard)
        answers = list(await asyncio.gather(*futures))
        for answer in answers:
            if isinstance(answer, HeadMissing):
                raise answer
        return answers

    def _start(self, shard: int) -> None:
        later = self._later.pop(shard, None)
        if later is not None:
            later.cancel()
        if shard in self._busy or not self._waiting.get(shard):
            return
        self._busy.add(shard)
        runner = asyncio.ensure_future(self._run(shard))
        self._runners.add(runner)
        runner.add_done_callback(self._runners.discard)

    async def _run(self, shard: int) -> None:
        try:
            while self._waiting[shard]:
                taken = self._waiting[shard][:_ROUND_OPS]
                self._waiting[shard] = self._waiting[shard][_ROUND_OPS:]
                try:
                    answers = await self._round(shard, [(account, op) for account, op, _ in taken])
                except BaseException as error:  # every waiter learns it; the queue goes on
                    for _, _, future in taken:
                        if not future.done():
                            future.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                for (_, _, future), answer in zip(taken, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            self._busy.discard(shard)
            for _, _, future in self._waiting.pop(shard, []):
                if not future.done():
                    future.cancel()

    async def _state(self, shard: int, accounts: list[Address], *, fresh: bool) -> ShardState:
        """The shard with every head of ``accounts``: as this process knows it (heads it does not
        know read, and all again when the shard moved since), or read now when ``fresh``."""
        known = self._known.pop(shard, None)
        if known is None or fresh:
            return await self._read(shard, accounts)
        missing = [a for a in accounts if a not in known.heads]
        if missing:
            found = await self._read(shard, missing)
            if found.version != known.version:
                return await self._read(shard, accounts)
            known.heads.update(found.heads)
        return known

    async def _round(self, shard: int, ops: list[tuple[Address, HeadOp]]) -> list[Any]:
        """Decide ``ops`` on the shard as known (read again whenever another writer moved it).
        What the known shard would answer without a write (a refusal, a missing head, a post or
        release of a reservation it does not hold) is only answered from a fresh read: another
        process may have moved the shard since."""
        accounts = list(dict.fromkeys(account for account, _ in ops))
        fresh = False
        for _ in range(_ROUNDS):
            state = await self._state(shard, accounts, fresh=fresh)
            after, answers = decide(ops, {a: state.heads.get(a) for a in accounts})
            changed = [a for a in accounts if not _same(after[a], state.heads.get(a))]
            if not changed:
                if fresh or not _unwritten(ops, answers):
                    self._known[shard] = state
                    return answers
                fresh = True
                continue
            version = (state.version or 0) + 1
            if await self._write(shard, state.version, version, {a: after[a] for a in changed}):
                state.version = version
                state.heads.update(after)
                self._known[shard] = state
                return answers
            # Another writer moved the shard, or our own earlier try did (a timeout retried): read
            # it again; a reservation already there is found by its key, a post already made is gone.
            fresh = True
        raise StoreUnavailable("the heads of a bounded account kept changing under concurrent writers; retry")

    async def _write(
        self, shard: int, was: int | None, version: int, heads: dict[Address, HeadState | None]
    ) -> bool:
        """One conditional batch: the shard's version moves from ``was`` and the changed heads
        with it. Whether it applied."""
        batch = BatchStatement(batch_type=BatchType.UNLOGGED, serial_consistency_level=self._serial)
        if was is None:
            batch.add(await self._prepare("head_version_first"), (version, shard))
        else:
            batch.add(await self._prepare("head_version"), (version, shard, was))
        for account, head in heads.items():
            if head is None:
                batch.add(await self._prepare("drop_head"), (shard, head_key(account)))
            else:
                values = (head.balance, head.reserved, head.since, shard, head_key(account))
                batch.add(await self._prepare("write_head"), values)
        result = await self._execute(batch)
        return bool(result.rows and result.rows[0][0])


#: Buckets or movements read per page when a head is folded from an account's entries.
_FOLD_PAGE = 5000


async def fold_account(store: Store, account: Address) -> Decimal:
    """An account's balance from every entry it has (credits less debits)."""
    balance = ZERO
    buckets: list[str] = []
    token = None
    while True:
        page = await store.list_buckets(account, _FOLD_PAGE, token)
        buckets += page.items
        token = page.next_token
        if token is None:
            break
    for bucket in buckets:
        token = None
        while True:
            movements = await store.read_movements(account, bucket, TimeRange(), _FOLD_PAGE, token)
            for movement in movements.items:
                signed = movement.amount if movement.side is Side.CREDIT else -movement.amount
                balance = MONEY_CONTEXT.add(balance, signed)
            token = movements.next_token
            if token is None:
                break
    return balance
