"""The lists of holds on Cassandra: every hold ever placed, the open ones per shard, and the open
ones per account.

Why apart from the claims: they are derived rows, written before a hold's claim (a reader confirms
a listed hold by its claim) and taken off only once its outcome is complete, so a hold off the
open list needs no completing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from ...domain.claims import shard_of
from ...domain.model import Address, RecordedTransaction
from ...domain.timeutil import to_epoch_ms
from .heads import head_key
from .rows import Execute, Prepare


def accounts_of(transaction: RecordedTransaction) -> list[Address]:
    """Every account a set has a leg on, once each."""
    return list(dict.fromkeys(leg.address for leg in transaction.legs))


class HoldLists:
    """List, open and close the holds of one Cassandra ledger."""

    def __init__(self, execute: Execute, prepare: Prepare, shards: Callable[[], Awaitable[int]]) -> None:
        self._execute = execute
        self._prepare = prepare
        self._shards = shards

    async def listed(self, open_only: bool) -> list[tuple[uuid.UUID, int]]:
        """(id, shard) of every hold ever placed, or of those with no outcome recorded yet."""
        name = "open_hold_ids" if open_only else "hold_ids"
        found: list[tuple[uuid.UUID, int]] = []
        for shard in range(await self._shards()):
            statement = (await self._prepare(name)).bind((shard,))
            statement.fetch_size = None
            found += [(row[0], shard) for row in (await self._execute(statement)).rows]
        return found

    async def open_at(self, account: Address) -> list[uuid.UUID]:
        """The holds listed open with a leg on ``account``."""
        statement = (await self._prepare("open_holds_at")).bind((head_key(account),))
        statement.fetch_size = None
        return [row[0] for row in (await self._execute(statement)).rows]

    async def open(self, transaction: RecordedTransaction) -> None:
        """List a hold, before its claim, as placed and open in its shard and at its accounts."""
        hold_id = transaction.transaction_id
        shard = shard_of(hold_id, await self._shards())
        placed_ms = to_epoch_ms(transaction.recorded_at)
        open_at = await self._prepare("open_hold_at")
        await asyncio.gather(
            self._execute(await self._prepare("index_hold"), (shard, hold_id, placed_ms)),
            self._execute(await self._prepare("open_hold"), (shard, hold_id, placed_ms)),
            *(self._execute(open_at, (head_key(a), hold_id)) for a in accounts_of(transaction)),
        )

    async def is_open(self, hold_id: uuid.UUID) -> bool:
        """Whether the hold is on its shard's open list (one read)."""
        shard = shard_of(hold_id, await self._shards())
        return bool((await self._execute(await self._prepare("is_hold_open"), (shard, hold_id))).rows)

    async def close(self, transaction: RecordedTransaction) -> None:
        """Take a hold whose outcome is complete off the open lists, its shard's last."""
        hold_id = transaction.transaction_id
        close_at = await self._prepare("close_hold_at")
        accounts = accounts_of(transaction)
        await asyncio.gather(*(self._execute(close_at, (head_key(a), hold_id)) for a in accounts))
        shard = shard_of(hold_id, await self._shards())
        await self._execute(await self._prepare("close_hold"), (shard, hold_id))
