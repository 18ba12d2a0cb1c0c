"""Writing the rows of claimed entry sets: encoded by column, packed by replica, sent concurrently.

Every row is an identical immutable insert or a map entry ``USING TIMESTAMP`` of its own time, so
each batch may be retried or repeated by repair. Rows are encoded (``encode.py``) before any claim,
so a value that cannot be encoded fails the write before any id is claimed; index rows this
process has written are remembered and left out of later writes (they cannot change).
"""

from __future__ import annotations

import asyncio
import struct
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from cassandra.query import PreparedStatement

from ...domain.errors import ValidationError
from ...domain.layout import Layouts
from ...domain.materialise import Materialisation
from ...domain.timeutil import DAY_MS, bucket_of_day, to_epoch_ms
from . import aio
from .batches import pack
from .encode import RowEncoder
from .marks import mark_updates
from .rollups import split_rows

Execute = Callable[..., Awaitable[aio.Result]]
Prepare = Callable[[str], Awaitable[PreparedStatement]]
CurrentLayouts = Callable[[], Awaitable[Layouts]]
#: Statements in flight while rows are sent, and index rows remembered as written.
_IN_FLIGHT = 64
_INDEX_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class BoundRows:
    """Rows ready to send: the statements, and the index rows among them (remembered once sent)."""

    statements: list[Any]
    index: list[tuple[Any, ...]]


class RowWriter:
    """Encodes, packs and sends the rows of a materialisation (see the module docstring)."""

    def __init__(
        self,
        execute: Execute,
        prepare: Prepare,
        replica_of: Callable[[bytes | None], Hashable],
        layouts: CurrentLayouts | None = None,
        rollup_parts: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._execute = execute
        self._rollup_parts = rollup_parts or _one_part
        self._layouts = layouts
        self._prepare = prepare
        self._replica_of = replica_of
        self._known_index: set[tuple[Any, ...]] = set()
        self._encoders: dict[str, RowEncoder] = {}

    async def write(self, rows: Materialisation, use_cache: bool = True) -> None:
        """Every row, packed into unlogged batches by replica (every one idempotent).

        Index rows this process already wrote are left out (they cannot change)."""
        await self.send(await self.bind(rows, use_cache))

    async def bind(self, rows: Materialisation, use_cache: bool = True) -> BoundRows:
        """Every row bound to its statement and packed; raises ValidationError for a value the
        driver cannot encode (nothing has been written then)."""
        try:
            return await self._bind(rows, use_cache)
        except (TypeError, ValueError, OverflowError, struct.error) as error:
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise ValidationError.single("entries", f"cannot be encoded for Cassandra: {reason}") from None

    async def _bind(self, rows: Materialisation, use_cache: bool) -> BoundRows:
        # Entries are grouped by partition as they are read (address and month bucket, or for a
        # split account the partition its layout gives), the other rows by their statement's
        # partition key; each partition's key is encoded once. A chunk's entries share few
        # recorded times: each is converted once.
        layouts = await self._layouts() if self._layouts is not None else None
        entries: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
        split: set[tuple[Any, ...]] = set()
        recorded_ms: dict[Any, int] = {}
        for entry in rows.entries:
            effective_at, recorded_at = entry.effective_at, entry.recorded_at
            effective_ms = to_epoch_ms(effective_at)
            recorded = recorded_ms.get(recorded_at)
            if recorded is None:
                recorded = recorded_ms[recorded_at] = to_epoch_ms(recorded_at)
            if layouts:
                partition = layouts.partition(entry.address, effective_ms, recorded, entry.transaction_id)
                split.add((entry.address, partition))
            else:
                partition = bucket_of_day(effective_ms // DAY_MS)
            entries[(*entry.address.as_tuple(), partition)].append(
                (
                    effective_ms,
                    entry.transaction_id,
                    entry.leg_index,
                    entry.side.value,
                    entry.amount,
                    entry.description,
                    recorded,
                )
            )
        tree, activity = split_rows(rows.tree, rows.activity, await self._rollup_parts())
        index: list[tuple[Any, ...]] = [("insert_tree", *row) for row in tree]
        listed = split if layouts else rows.buckets  # the bucket index lists partitions
        index += [("insert_bucket", *address.as_tuple(), bucket) for address, bucket in listed]
        index += [("insert_activity", *row) for row in activity]
        index += [("insert_future_day", node, day) for node, day in {(n, d) for n, d, _a in rows.future}]
        fresh = [row for row in index if not use_cache or row not in self._known_index]
        by_statement: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in fresh:
            by_statement[row[0]].append(row[1:])
        by_statement["insert_marks"] = mark_updates(rows.marks)
        encoder = await self.encoder("insert_entry")
        partitions = [encoder.partition(key, members) for key, members in entries.items()]
        for name, members in by_statement.items():
            partitions += (await self.encoder(name)).partitions(members)
        return BoundRows(pack(partitions, self._replica_of), fresh)

    async def encoder(self, name: str) -> RowEncoder:
        """The row encoder of a statement (made again when the statement was prepared again)."""
        prepared = await self._prepare(name)
        encoder = self._encoders.get(name)
        if encoder is None or encoder.prepared is not prepared:
            encoder = self._encoders[name] = RowEncoder(prepared)
        return encoder

    async def send(self, rows: BoundRows) -> None:
        """Write bound rows, then remember their index rows as written."""
        await self.run_all(rows.statements)
        if len(self._known_index) > _INDEX_CACHE_LIMIT:
            self._known_index.clear()
        self._known_index.update(rows.index)  # only after every row landed

    async def run_all(self, statements: list[Any]) -> None:
        """Execute with at most ``_IN_FLIGHT`` outstanding (each call retries transient errors)."""
        gate = asyncio.Semaphore(_IN_FLIGHT)

        async def one(statement: Any) -> None:
            async with gate:
                await self._execute(statement)

        await asyncio.gather(*(one(s) for s in statements))


async def _one_part() -> int:
    return 1
