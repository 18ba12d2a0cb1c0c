"""The embedded store's change feed: its change log gives every set a sequence number in commit
order (one writer at a time), so its cursors are exact: no repeats, no waiting for writes to settle.
"""

from __future__ import annotations

import re
import sqlite3

from ...domain.changes import Change, ChangePage, ChangeType, FeedLag, HoldChange
from ...domain.errors import ValidationError
from ...domain.timeutil import from_epoch_ms
from .sql import SELECT_CHANGES, SELECT_LAST_CHANGE, transaction_from_row

_CURSOR = re.compile(r"^s1-([0-9]{1,19})\Z")
#: The largest number SQLite stores (a larger one in a forged cursor is refused, not an overflow).
MAX_SEQ = (1 << 63) - 1


def cursor_of(seq: int) -> str:
    """The cursor after the change numbered ``seq``."""
    return f"s1-{seq}"


def seq_of(cursor: str | None) -> int:
    """The change number a cursor stands after (0: before the first)."""
    if cursor is None:
        return 0
    found = _CURSOR.match(cursor)
    if found is None or int(found.group(1)) > MAX_SEQ:
        raise ValidationError.single("cursor", "not a change cursor of an embedded ledger (use one it gave)")
    return int(found.group(1))


def read_changes(connection: sqlite3.Connection, after: int, limit: int) -> ChangePage:
    """Up to ``limit`` changes after number ``after``, with how many more wait behind them."""
    rows = connection.execute(SELECT_CHANGES, (after, limit)).fetchall()
    last = int(connection.execute(SELECT_LAST_CHANGE).fetchone()[0])
    changes = [_change(row) for row in rows]
    reached = int(rows[-1][0]) if rows else after
    return ChangePage(changes, cursor_of(reached), reached < last, FeedLag(events=max(0, last - reached)))


def _change(row: tuple[object, ...]) -> Change:
    seq, kind, *stored, expires_ms, outcome_ms = row
    transaction = transaction_from_row(stored)
    if kind is None:
        return Change(transaction, cursor_of(int(str(seq))))
    outcome_at = None if outcome_ms is None else from_epoch_ms(int(str(outcome_ms)))
    hold = HoldChange(ChangeType(str(kind)), from_epoch_ms(int(str(expires_ms))), outcome_at)
    return Change(transaction, cursor_of(int(str(seq))), hold)


def last_change(connection: sqlite3.Connection) -> str:
    """The cursor after the newest change."""
    return cursor_of(int(connection.execute(SELECT_LAST_CHANGE).fetchone()[0]))
