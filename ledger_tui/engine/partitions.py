"""Bounded-concurrency leaf reads over a store's partitions, shared by reads, sealing and verify.

Every store call goes through ``slot`` so at most ``read_concurrency`` are in flight, however
deep the fan-out; nested fan-outs never hold a slot while waiting on another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TypeVar

from ..domain.blocks import UNSEALED, NodeView
from ..domain.model import Address, Movement
from ..domain.paging import Page, PageToken
from ..domain.timeutil import TimeRange, to_epoch_ms
from ..store.base import Store
from .reads import collect, drain

T = TypeVar("T")
#: Rows per store call when a read folds whole partitions.
READ_BATCH = 1000
_FIRST_DAY = -(10**9)
_LAST_DAY = 10**9


class Partitions:
    """The store's partition primitives, paged to the end and bounded in concurrency."""

    def __init__(self, store: Store, read_concurrency: int = 8, *, use_blocks: bool = True) -> None:
        self.store = store
        self._slots = asyncio.Semaphore(read_concurrency)
        #: False: reads see every node as unsealed and fold every entry (the full fold).
        self.use_blocks = use_blocks

    def without_blocks(self) -> Partitions:
        """The same partitions (sharing the read slots) with reads that ignore blocks."""
        twin = Partitions(self.store, use_blocks=False)
        twin._slots = self._slots
        return twin

    async def slot(self, call: Awaitable[T]) -> T:
        """Await one store call holding a read slot."""
        async with self._slots:
            return await call

    @staticmethod
    async def gather(jobs: Iterable[Awaitable[T]]) -> list[T]:
        """Run jobs concurrently (each store call inside takes a slot)."""
        return list(await asyncio.gather(*jobs))

    async def children(self, parent: tuple[str, ...]) -> list[str]:
        """Every child of one account-tree node."""
        return await collect(lambda token: self.slot(self.store.list_children(parent, READ_BATCH, token)))

    async def buckets(self, address: Address) -> list[str]:
        """Every month bucket that holds entries of ``address``, oldest first."""
        return await collect(lambda token: self.slot(self.store.list_buckets(address, READ_BATCH, token)))

    async def day_activity(self, node: str, day: int) -> list[str]:
        """Account ids under rollup ``node`` with entries on ``day``."""
        return await collect(
            lambda token: self.slot(self.store.read_day_activity(node, day, READ_BATCH, token))
        )

    async def view(self, node: str, until_day: int | None = None, *, everything: bool = False) -> NodeView:
        """A node's seal state with its blocks and late marks before ``until_day`` and before its
        ``sealed_through`` (``everything``: all of them, sealed or not, as verify needs)."""
        if not self.use_blocks and not everything:
            return NodeView(UNSEALED)
        state = await self.slot(self.store.read_seal_state(node))
        if state is None and not everything:
            return NodeView(UNSEALED)
        bound = _LAST_DAY if everything or state is None else state.sealed_through
        if until_day is not None:
            bound = min(bound, until_day)
        store = self.store
        blocks, marks = await asyncio.gather(
            collect(lambda t: self.slot(store.read_blocks(node, _FIRST_DAY, bound, READ_BATCH, t))),
            collect(lambda t: self.slot(store.read_marks(node, _FIRST_DAY, bound, READ_BATCH, t))),
        )
        return NodeView(state or UNSEALED, {block.day: block for block in blocks}, dict(marks))

    async def each_movement_page(
        self,
        address: Address,
        span: TimeRange,
        visit: Callable[[list[Movement]], None],
        buckets: list[str] | None = None,
    ) -> None:
        """Hand every page of the account's movements inside ``span`` to ``visit``, reading its
        partitions concurrently (a fold does not care about order)."""
        listed = await self.buckets(address) if buckets is None else buckets

        async def read(bucket: str) -> None:
            def fetch(token: PageToken | None) -> Awaitable[Page[Movement]]:
                return self.slot(self.store.read_movements(address, bucket, span, READ_BATCH, token))

            async for chunk in drain(fetch):
                visit(chunk)

        await self.gather(read(bucket) for bucket in listed if span.touches_bucket(bucket))


def as_of_ms(as_of: datetime | None) -> int | None:
    """An as-of time as epoch milliseconds (None: no recorded-time filter)."""
    return None if as_of is None else to_epoch_ms(as_of)
