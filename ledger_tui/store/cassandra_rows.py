"""Writing the rows of claimed entry sets: encoded by column, packed by replica, sent concurrently.

Every row a materialisation holds (entries, index rows, day activity, late marks) is an
identical immutable insert, so each batch is idempotent and may be retried or repeated by repair.
Rows are encoded (``cassandra_encode``) before the claims are made: a value that cannot be
encoded fails the write before any id is claimed. Index rows this process has written are
remembered and left out of later writes (they cannot change).
"""

from __future__ import annotations

import asyncio
import struct
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cassandra.query import PreparedStatement

from ..domain.errors import ValidationError
from ..domain.materialise import Materialisation
from ..domain.timeutil import bucket_of, to_epoch_ms
from . import aio
from .cassandra_batches import pack
from .cassandra_encode import RowEncoder

Execute = Callable[..., Awaitable[aio.Result]]
Prepare = Callable[[str], Awaitable[PreparedStatement]]
#: Statements in flight while rows are sent, and index rows remembered as written.
_IN_FLIGHT = 64
_INDEX_CACHE_LIMIT = 200_000


def _micros(moment: datetime) -> int:
    """A write timestamp (microseconds) that orders derived rows by the time they describe."""
    return to_epoch_ms(moment) * 1000


@dataclass(frozen=True, slots=True)
class BoundRows:
    """Rows ready to send: the statements, and the index rows among them (remembered once sent)."""

    statements: list[Any]
    index: list[tuple[Any, ...]]


class RowWriter:
    """Encodes, packs and sends the rows of a materialisation (see the module docstring)."""

    def __init__(self, execute: Execute, prepare: Prepare, replica_of: Callable[[Any], Hashable]) -> None:
        self._execute = execute
        self._prepare = prepare
        self._replica_of = replica_of
        self._known_index: set[tuple[Any, ...]] = set()
        self._encoders: dict[str, RowEncoder] = {}

    async def write(self, rows: Materialisation, use_cache: bool = True) -> None:
        """Every row, packed into unlogged batches by replica (identical immutable rows: idempotent).

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
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for entry in rows.entries:
            address = entry.address.as_tuple()
            bucket = bucket_of(entry.effective_at)
            groups[("insert_entry", *address, bucket)].append(
                (
                    *address,
                    bucket,
                    to_epoch_ms(entry.effective_at),
                    entry.transaction_id,
                    entry.leg_index,
                    entry.side.value,
                    entry.amount,
                    entry.description,
                    to_epoch_ms(entry.recorded_at),
                )
            )
        index: list[tuple[Any, ...]] = [("insert_tree", *row) for row in rows.tree]
        index += [("insert_bucket", *address.as_tuple(), bucket) for address, bucket in rows.buckets]
        index += [("insert_activity", *row) for row in rows.activity]
        index += [("insert_future", *row) for row in rows.future]
        fresh = [row for row in index if not use_cache or row not in self._known_index]
        for row in fresh:
            name = row[0]
            partition = row[:2] if name == "insert_tree" else row[:6] if name == "insert_bucket" else row[:3]
            groups[partition].append(row[1:])
        for (node, day), recorded_at in rows.marks.items():
            groups[("insert_mark", node, day)].append(
                (node, day, to_epoch_ms(recorded_at), _micros(recorded_at))
            )
        bound: dict[tuple[Any, ...], list[Any]] = {}
        for key, members in groups.items():
            encoder = await self.encoder(key[0])
            bound[key] = [encoder.bind(values) for values in members]
        return BoundRows(pack(bound, self._replica_of), fresh)  # type: ignore[arg-type]

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
