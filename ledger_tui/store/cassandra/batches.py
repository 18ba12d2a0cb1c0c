"""Packing bound rows into unlogged batches grouped by the replica that owns their partitions.

Why: a bulk write touches many partitions with a row or two each, and every request costs the
client far more than a row in it, so rows go as few, full batches (a partition with many rows
gets batches of its own). Every row is an identical insert or a timestamped map entry, so every
batch is idempotent and may be retried. Sizes and figures: docs/cassandra-write-path.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from cassandra.query import BatchStatement, BatchType, BoundStatement

from .encode import Partition

#: Rows of one partition from which it gets batches of its own.
OWN_BATCH_ROWS = 40
#: Most rows, and most bytes of bound values, in one batch (bytes: half the node's default
#: failure threshold for a batch's size).
BATCH_ROWS = 200
BATCH_BYTES = 25 * 1024
_EXPECTED_WARNINGS = ("Unlogged batch covering", "Batch for [", "Batch of prepared statements for [")


class _BatchWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.args[0]) if isinstance(record.args, tuple) and record.args else record.getMessage()
        return not text.startswith(_EXPECTED_WARNINGS)


def quiet_batch_warnings() -> None:
    """Drop the node's warnings about our deliberately multi-partition unlogged batches (too
    many partitions, or too large); every other server warning still shows."""
    logger = logging.getLogger("cassandra.protocol")
    if not any(isinstance(f, _BatchWarningFilter) for f in logger.filters):
        logger.addFilter(_BatchWarningFilter())


def batch_of(partitions: Sequence[Partition], conditional: bool = False) -> Any:
    """Every row of ``partitions`` in one batch (routed by the first partition); a lone row of
    an unconditional write goes as the bound statement itself."""
    first = partitions[0]
    if not conditional and len(partitions) == 1 and len(first.rows) == 1:
        statement = BoundStatement(first.encoder.prepared)
        statement.values = first.rows[0]
    else:
        statement = BatchStatement(batch_type=BatchType.UNLOGGED)
        statement.routing_key = first.routing_key
        statement.keyspace = first.encoder.prepared.keyspace
        # What ``add`` appends for a bound statement, without a statement object per row.
        members = statement._statements_and_parameters
        for part in partitions:
            query_id = part.encoder.prepared.query_id
            members.extend([(True, query_id, values) for values in part.rows])
    statement.is_idempotent = True
    return statement


def _fill(partitions: list[Partition], packed: list[Any]) -> None:
    """Append the rows of ``partitions`` to ``packed`` as batches within ``BATCH_ROWS`` and
    ``BATCH_BYTES``, in order (a partition split across batches keeps its rows' order)."""
    current: list[Partition] = []
    rows = size = 0
    for part in partitions:
        start = 0
        for index, row_size in enumerate(part.sizes):
            if rows and (rows >= BATCH_ROWS or size + row_size > BATCH_BYTES):
                current.append(_slice(part, start, index))
                packed.append(batch_of([p for p in current if p.rows]))
                current, rows, size, start = [], 0, 0, index
            rows += 1
            size += row_size
        current.append(_slice(part, start, len(part.rows)))
    if rows:
        packed.append(batch_of([p for p in current if p.rows]))


def _slice(part: Partition, start: int, stop: int) -> Partition:
    if start == 0 and stop == len(part.rows):
        return part
    return Partition(part.encoder, part.routing_key, part.rows[start:stop], part.sizes[start:stop])


def pack(partitions: Iterable[Partition], replica_of: Callable[[bytes | None], Hashable]) -> list[Any]:
    """Statements (bound rows, or unlogged batches of them) covering every row exactly once."""
    by_replica: dict[Hashable, list[Partition]] = defaultdict(list)
    packed: list[Any] = []
    for part in partitions:
        if len(part.rows) >= OWN_BATCH_ROWS:
            _fill([part], packed)
        else:
            by_replica[replica_of(part.routing_key)].append(part)  # a partition's rows stay adjacent
    for parts in by_replica.values():
        _fill(parts, packed)
    return packed
