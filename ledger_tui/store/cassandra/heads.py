"""Bounded accounts' heads on Cassandra: a write reserves at each before its set is claimed and
posts (or releases) after, and every decision on one account is a conditional update of its version.

Why one runner per busy account: on a hot bounded account a consensus round per set would cap it
at the node's rounds per second, and rounds racing for one version fail and retry; a runner decides
every op waiting for its account in one round, in arrival order (docs/limits.md).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...domain.errors import StoreUnavailable
from ...domain.limits import Head, Limit, LimitExceeded, check_head
from ...domain.model import Address
from ...domain.money import MONEY_CONTEXT, ZERO
from .rows import Execute, Prepare

#: Ops one round decides at most, and rounds tried before a busy account gives up.
_ROUND_OPS = 256
_ROUNDS = 40

RESERVE, POST, RELEASE = "reserve", "post", "release"


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
    finds its own reservation."""

    kind: str
    key: str
    debits: Decimal = ZERO
    credits: Decimal = ZERO
    limit: Limit | None = None


@dataclass(slots=True)
class HeadState:
    """A head as read (or as this process last wrote it)."""

    version: int
    balance: Decimal
    reserved: dict[str, str] = field(default_factory=dict)

    def head(self) -> Head:
        """Balance and the reservations as pending debits and credits."""
        debits = credits = ZERO
        for value in self.reserved.values():
            debit, credit = value.split("|")
            debits = MONEY_CONTEXT.add(debits, Decimal(debit))
            credits = MONEY_CONTEXT.add(credits, Decimal(credit))
        return Head(self.balance, debits, credits)


def head_key(account: Address) -> str:
    """The account as the heads table keys it (no part holds '/')."""
    return str(account)


def decide(
    account: Address, state: HeadState, ops: list[HeadOp]
) -> tuple[HeadState, list[LimitExceeded | None]]:
    """The head after ``ops`` in order, and each op's answer (a refused reserve changes nothing)."""
    balance, reserved = state.balance, dict(state.reserved)
    answers: list[LimitExceeded | None] = []
    for op in ops:
        answer: LimitExceeded | None = None
        if op.kind == RESERVE and op.key not in reserved:
            assert op.limit is not None
            try:
                head = HeadState(0, balance, reserved).head()
                check_head(account, op.limit, head, op.debits, op.credits, hold=True)
            except LimitExceeded as error:
                answer = error
            else:
                reserved[op.key] = f"{op.debits}|{op.credits}"
        elif op.kind == POST and reserved.pop(op.key, None) is not None:  # else posted already
            balance = MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(balance, op.credits), op.debits)
        elif op.kind == RELEASE:
            reserved.pop(op.key, None)
        answers.append(answer)
    return HeadState(state.version + 1, balance, reserved), answers


class HeadBook:
    """Per-account queues of head ops, each decided in its account's next round."""

    def __init__(self, execute: Execute, prepare: Prepare, serial: int) -> None:
        self._execute = execute
        self._prepare = prepare
        self._serial = serial
        self._waiting: dict[Address, list[tuple[HeadOp, asyncio.Future[Any]]]] = defaultdict(list)
        self._busy: set[Address] = set()
        self._runners: set[asyncio.Task[None]] = set()
        self._known: dict[Address, HeadState] = {}

    async def read(self, account: Address) -> HeadState | None:
        """The head as it stands (serial: a round in flight is seen whole or not at all)."""
        statement = (await self._prepare("read_head")).bind((head_key(account),))
        statement.consistency_level = self._serial
        rows = (await self._execute(statement)).rows
        if not rows or rows[0][0] is None:
            return None
        version, balance, reserved = rows[0]
        return HeadState(int(version), balance, dict(reserved or {}))

    async def create(self, account: Address, balance: Decimal) -> None:
        """Make the head of a newly bounded account (a head already there is kept)."""
        await self._execute(await self._prepare("create_head"), (head_key(account), balance))
        self._known.pop(account, None)

    async def drop(self, account: Address) -> None:
        """Remove the head of an account no longer bounded (made again from its entries if it
        is bounded again)."""
        await self._execute(await self._prepare("drop_head"), (head_key(account),))
        self._known.pop(account, None)

    async def apply(self, account: Address, ops: list[HeadOp]) -> list[LimitExceeded | None]:
        """Queue ``ops`` for ``account``; each one's answer once its round is decided (None:
        done). Raises HeadMissing when the account has no head."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        for op in ops:
            future: asyncio.Future[Any] = loop.create_future()
            futures.append(future)
            self._waiting[account].append((op, future))
        if account not in self._busy:
            self._busy.add(account)
            runner = asyncio.ensure_future(self._run(account))
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        return list(await asyncio.gather(*futures))

    async def _run(self, account: Address) -> None:
        try:
            while self._waiting[account]:
                taken = self._waiting[account][:_ROUND_OPS]
                self._waiting[account] = self._waiting[account][_ROUND_OPS:]
                try:
                    answers = await self._round(account, [op for op, _ in taken])
                except BaseException as error:  # every waiter learns it; the queue goes on
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                    continue
                for (_, future), answer in zip(taken, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            self._busy.discard(account)
            for _, future in self._waiting.pop(account, []):
                if not future.done():
                    future.cancel()

    async def _round(self, account: Address, ops: list[HeadOp]) -> list[LimitExceeded | None]:
        """Decide ``ops`` on the head as known (read again whenever another writer moved it)."""
        move = await self._prepare("move_head")
        for _ in range(_ROUNDS):
            state = self._known.pop(account, None) or await self.read(account)
            if state is None:
                raise HeadMissing(account)
            after, answers = decide(account, state, ops)
            if after.balance == state.balance and after.reserved == state.reserved:
                self._known[account] = state
                return answers
            values = (after.version, after.balance, after.reserved, head_key(account), state.version)
            statement = move.bind(values)
            statement.serial_consistency_level = self._serial
            result = await self._execute(statement)
            if result.rows and result.rows[0][0]:
                self._known[account] = after
                return answers
            # Another writer moved it, or our own earlier try did (a timeout retried): read it
            # again; a reservation already there is found by its key, a post already made is gone.
        raise StoreUnavailable(f"the head of {account} kept changing under concurrent writers; retry")
