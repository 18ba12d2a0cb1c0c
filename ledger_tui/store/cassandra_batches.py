"""Packing bound rows into unlogged batches that a Cassandra node applies cheaply.

A bulk write of entry sets touches many partitions with a row or two each, so batches of one
partition would be nearly one request per row (the client's per-request cost then dominates).
Rows are grouped by the replica that owns their partition, then packed: a partition with many
rows becomes its own batch (single-partition batches have no size limits and apply as one
mutation), the others share batches of at most ``ROWS_PER_SHARED_BATCH`` rows, sent to that
replica (token-aware routing follows the first row), which keeps them far below the node's
default failure threshold for batch size (50 KiB). The node warns about such batches (over 10
partitions or 5 KiB); those two warnings are expected here and are filtered from the driver's
log (``quiet_batch_warnings``), every other server warning still shows.
Every row is an identical immutable insert, so every batch is idempotent and may be retried.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any

from cassandra.query import BatchStatement, BatchType

#: Rows of one partition from which it gets a batch of its own.
OWN_BATCH_ROWS = 4
ROWS_PER_OWN_BATCH = 100
ROWS_PER_SHARED_BATCH = 60
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


def pack(partitions: dict[Hashable, list[Any]], replica_of: Callable[[Any], Hashable]) -> list[Any]:
    """Statements (bound rows, or unlogged batches of them) covering every row exactly once."""
    by_replica: dict[Hashable, list[list[Any]]] = defaultdict(list)
    packed: list[Any] = []
    for rows in partitions.values():
        if len(rows) >= OWN_BATCH_ROWS:
            packed += [
                _batch(rows[i : i + ROWS_PER_OWN_BATCH]) for i in range(0, len(rows), ROWS_PER_OWN_BATCH)
            ]
        else:
            by_replica[replica_of(rows[0])].append(rows)
    for groups in by_replica.values():
        current: list[Any] = []
        for rows in groups:
            if current and len(current) + len(rows) > ROWS_PER_SHARED_BATCH:
                packed.append(_batch(current))
                current = []
            current += rows
        if current:
            packed.append(_batch(current))
    return packed
