"""Packing bound rows into unlogged batches that a Cassandra node applies cheaply.

A bulk write of entry sets touches many partitions with a row or two each, so batches of one
partition would be nearly one request per row (the client's per-request cost then dominates).
Rows are grouped by the replica that owns their partition, then packed: a partition with many
rows gets batches of its own (applied as one mutation), the others share batches sent to that
replica (token-aware routing follows the first row). Every batch holds at most ``BATCH_ROWS``
rows and ``BATCH_BYTES`` bytes of values, half the node's default failure threshold for batch
size (50 KiB). Fewer, fuller batches matter: each request costs the client ~100 µs (message,
checksums, callbacks), so batches of 200 rows instead of 60 cut a bulk write's client time by a
sixth and the node's by a quarter (bench/RESULTS.md). The node warns about such batches (over
10 partitions or 5 KiB); those two warnings are expected here and are filtered from the
driver's log (``quiet_batch_warnings``), every other server warning still shows.
Every row is an identical immutable insert, so every batch is idempotent and may be retried.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any

from cassandra.query import BatchStatement, BatchType

#: Rows of one partition from which it gets batches of its own.
OWN_BATCH_ROWS = 40
#: Most rows, and most bytes of bound values, in one batch.
BATCH_ROWS = 200
BATCH_BYTES = 25 * 1024
#: Bytes a row adds to a batch besides its values (statement id, value lengths): an estimate.
ROW_OVERHEAD = 24
_EXPECTED_WARNINGS = ("Unlogged batch covering", "Batch for [", "Batch of prepared statements for [")


class _BatchWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.args[0]) if isinstance(record.args, tuple) and record.args else record.getMessage()
        return not text.startswith(_EXPECTED_WARNINGS)


def quiet_batch_warnings() -> None:
    """Drop the node's warnings about our deliberately multi-partition unlogged batches."""
    logger = logging.getLogger("cassandra.protocol")
    if not any(isinstance(f, _BatchWarningFilter) for f in logger.filters):
        logger.addFilter(_BatchWarningFilter())


def _batch(statements: list[Any]) -> Any:
    if len(statements) == 1:
        statement = statements[0]
    else:
        statement = BatchStatement(batch_type=BatchType.UNLOGGED)
        for bound in statements:
            statement.add(bound)
    statement.is_idempotent = True
    return statement


def size_of(bound: Any) -> int:
    """Bytes a bound row adds to a batch (its values plus a fixed overhead)."""
    return ROW_OVERHEAD + sum(len(value) for value in bound.values if value is not None)


def _fill(rows: list[Any], packed: list[Any]) -> None:
    """Append ``rows`` to ``packed`` as batches within ``BATCH_ROWS`` and ``BATCH_BYTES``, in order."""
    current: list[Any] = []
    size = 0
    for row in rows:
        row_size = size_of(row)
        if current and (len(current) >= BATCH_ROWS or size + row_size > BATCH_BYTES):
            packed.append(_batch(current))
            current, size = [], 0
        current.append(row)
        size += row_size
    if current:
        packed.append(_batch(current))


def pack(partitions: dict[Hashable, list[Any]], replica_of: Callable[[Any], Hashable]) -> list[Any]:
    """Statements (bound rows, or unlogged batches of them) covering every row exactly once."""
    by_replica: dict[Hashable, list[Any]] = defaultdict(list)
    packed: list[Any] = []
    for rows in partitions.values():
        if len(rows) >= OWN_BATCH_ROWS:
            _fill(rows, packed)
        else:
            by_replica[replica_of(rows[0])] += rows  # a partition's rows stay adjacent
    for rows in by_replica.values():
        _fill(rows, packed)
    return packed
