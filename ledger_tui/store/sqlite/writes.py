"""The embedded store's writes: new sets recorded whole inside one write transaction.

Why apart from store.py: a capture records its set inside the transaction that records the hold's
outcome, so the body of a write runs inside a transaction its caller opened (``in_write``).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from ...domain.blocks import SealPolicy
from ...domain.claims import RecordOutcome, claimed_by, first_of_each_id, in_submitted_order
from ...domain.materialise import materialise
from ...domain.model import RecordedTransaction
from ...domain.timeutil import to_epoch_ms
from . import limits
from .sql import (
    INSERT_ACTIVITY,
    INSERT_BUCKET,
    INSERT_CHANGE,
    INSERT_ENTRY,
    INSERT_FUTURE,
    INSERT_MARK,
    INSERT_TRANSACTION,
    INSERT_TREE,
    SELECT_TRANSACTION,
    entry_row,
    transaction_from_row,
)

T = TypeVar("T")
SELECT_HOLD_ROW = "SELECT hold_id, payload_hash, legs, recorded_at FROM holds WHERE hold_id = ?"


def in_write(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` in one write transaction (the file's write lock first): all of it or none."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


def record_in(
    connection: sqlite3.Connection,
    limit_state: limits.LimitState,
    transactions: Sequence[RecordedTransaction],
    policy: SealPolicy,
    capturing: uuid.UUID | None = None,
) -> list[RecordOutcome]:
    """Record the new sets among ``transactions`` (inside a write transaction): an id taken by a
    set or by a hold (unless it is the hold being captured) is a duplicate or a conflict, and a
    set a limit refuses is an outcome, not written."""
    unique, repeats = first_of_each_id(transactions)
    outcomes: dict[uuid.UUID, RecordOutcome] = {}
    fresh: list[RecordedTransaction] = []
    for transaction in unique:
        txid = str(transaction.transaction_id)
        existing = connection.execute(SELECT_TRANSACTION, (txid,)).fetchone()
        if existing is None and transaction.transaction_id != capturing:
            existing = connection.execute(SELECT_HOLD_ROW, (txid,)).fetchone()
            if existing is not None:  # a held id is settled by capture only: never a plain post
                outcomes[transaction.transaction_id] = RecordOutcome(
                    transaction_from_row(existing), duplicate=False, conflicting=True
                )
                continue
        if existing is not None:
            outcomes[transaction.transaction_id] = claimed_by(transaction, transaction_from_row(existing))
            continue
        outcomes[transaction.transaction_id] = RecordOutcome(transaction, duplicate=False)
        fresh.append(transaction)
    refused = limits.judge(connection, limit_state.refresh(connection), fresh)
    for index, error in refused.items():
        outcomes[fresh[index].transaction_id] = RecordOutcome(fresh[index], False, refused=error)
    if refused:
        fresh = [t for index, t in enumerate(fresh) if index not in refused]
    connection.executemany(
        INSERT_TRANSACTION,
        [(str(t.transaction_id), t.payload_hash, t.legs_json(), len(t.legs), to_epoch_ms(t.recorded_at))
         for t in fresh],
    )  # fmt: skip
    connection.executemany(INSERT_CHANGE, [(str(t.transaction_id),) for t in fresh])
    rows = materialise(fresh, policy)
    connection.executemany(INSERT_ENTRY, [entry_row(entry) for entry in rows.entries])
    connection.executemany(INSERT_TREE, list(rows.tree))
    connection.executemany(INSERT_BUCKET, [(*a.as_tuple(), bucket) for a, bucket in rows.buckets])
    connection.executemany(INSERT_ACTIVITY, list(rows.activity))
    connection.executemany(INSERT_FUTURE, list(rows.future))
    connection.executemany(
        INSERT_MARK, [(node, day, to_epoch_ms(at)) for (node, day), at in rows.marks.items()]
    )
    return in_submitted_order(transactions, repeats, outcomes)
