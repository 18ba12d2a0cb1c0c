"""The embedded store's limits: the limit history, the bounded accounts' heads, and the check.

Why it is race-free here: every write takes the file's write lock (BEGIN IMMEDIATE) before it reads
the limits and heads it checks against, so writers of every process decide one after another, and a
set's heads change in the set's own transaction (docs/limits.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from decimal import Decimal

from ...domain.address import AddressPattern
from ...domain.errors import LedgerError
from ...domain.limits import Head, Limit, LimitChange, LimitExceeded, Limits, check_limits, current_limits
from ...domain.model import Address, RecordedTransaction, Side
from ...domain.money import MONEY_CONTEXT, ZERO
from ...domain.timeutil import from_epoch_ms, to_epoch_ms

LIMITS_SCHEMA = """
CREATE TABLE IF NOT EXISTS limit_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern    TEXT NOT NULL,
    minimum    TEXT,
    maximum    TEXT,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS limit_changes_no_update BEFORE UPDATE ON limit_changes
BEGIN SELECT RAISE(ABORT, 'the limit history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS limit_changes_no_delete BEFORE DELETE ON limit_changes
BEGIN SELECT RAISE(ABORT, 'the limit history is append-only'); END;
-- Derived: the balance of every bounded account (rebuilt from its entries); what it holds pending
-- is read from the open holds' legs at the time of each write.
CREATE TABLE IF NOT EXISTS limit_heads (
    account TEXT PRIMARY KEY,
    balance TEXT NOT NULL
) WITHOUT ROWID;
"""
_LAST_CHANGE = "SELECT coalesce(max(seq), 0) FROM limit_changes"
_HISTORY = "SELECT seq, pattern, minimum, maximum, changed_by, changed_at FROM limit_changes ORDER BY seq"
_INSERT_CHANGE = (
    "INSERT INTO limit_changes (pattern, minimum, maximum, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)"
)
_SELECT_HEAD = "SELECT balance FROM limit_heads WHERE account = ?"
_WRITE_HEAD = "INSERT OR REPLACE INTO limit_heads VALUES (?, ?)"
_PENDING = "SELECT side, amount FROM open_hold_legs WHERE account = ? AND expires_at > ?"
_HEAD_ACCOUNTS = "SELECT account FROM limit_heads"
_DROP_HEAD = "DELETE FROM limit_heads WHERE account = ?"
_ACCOUNTS = "SELECT DISTINCT legal_entity, namespace, name, currency, account_id FROM account_buckets"
_MOVEMENTS = (
    "SELECT side, amount FROM ledger_entries WHERE legal_entity = ? AND namespace = ? AND name = ? "
    "AND currency = ? AND account_id = ?"
)


def _key(account: Address) -> str:
    return str(account)  # no part holds '/': the joined form names one account


def _pattern(text: str) -> AddressPattern:
    return AddressPattern(*text.split("/"))


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def read_history(connection: sqlite3.Connection) -> list[LimitChange]:
    """Every limit change, oldest first."""
    return [
        LimitChange(Limit(_pattern(p), _amount(lo), _amount(hi)), by, from_epoch_ms(at), seq)
        for seq, p, lo, hi, by, at in connection.execute(_HISTORY)
    ]


class LimitState:
    """The limits in force as this connection last read them (read again when the history grew)."""

    def __init__(self) -> None:
        self._seen = -1
        self.limits = Limits()

    def refresh(self, connection: sqlite3.Connection) -> Limits:
        """The limits now (call inside the write transaction: another process may have changed them)."""
        last = int(connection.execute(_LAST_CHANGE).fetchone()[0])
        if last != self._seen:
            self.limits = current_limits(read_history(connection))
            self._seen = last
        return self.limits

    def forget(self) -> None:
        """Read the history again next time (a change this connection saw was rolled back, and
        its number may be given to another change)."""
        self._seen = -1


def _pending(connection: sqlite3.Connection, account: Address, now_ms: int) -> tuple[Decimal, Decimal]:
    debits = credits = ZERO
    for side, amount in connection.execute(_PENDING, (_key(account), now_ms)):
        if side == Side.DEBIT.value:
            debits = MONEY_CONTEXT.add(debits, Decimal(amount))
        else:
            credits = MONEY_CONTEXT.add(credits, Decimal(amount))
    return debits, credits


def read_head(connection: sqlite3.Connection, account: Address, now_ms: int) -> Head | None:
    """A bounded account's head (its holds counted as pending at ``now_ms``), or None if the
    account is not bounded."""
    row = connection.execute(_SELECT_HEAD, (_key(account),)).fetchone()
    if row is None:
        return None
    return Head(Decimal(row[0]), *_pending(connection, account, now_ms))


def read_heads(
    connection: sqlite3.Connection, accounts: Iterable[Address], now_ms: int
) -> dict[Address, Head]:
    """The heads of those of ``accounts`` that are bounded."""
    found = {account: read_head(connection, account, now_ms) for account in accounts}
    return {account: head for account, head in found.items() if head is not None}


def _write_heads(connection: sqlite3.Connection, heads: dict[Address, Head]) -> None:
    connection.executemany(_WRITE_HEAD, [(_key(a), str(h.balance)) for a, h in heads.items()])


def judge_hold(connection: sqlite3.Connection, limits: Limits, transaction: RecordedTransaction) -> None:
    """Raise LimitExceeded if holding ``transaction`` would break a bound (inside the write)."""
    if not limits:
        return
    now_ms = to_epoch_ms(transaction.recorded_at)
    heads = {
        account: read_head(connection, account, now_ms) or Head()
        for account in limits.bounded(transaction.legs)
    }
    check_limits(transaction.legs, limits, heads, hold=True)


def judge(
    connection: sqlite3.Connection, limits: Limits, fresh: Sequence[RecordedTransaction]
) -> dict[int, LimitExceeded]:
    """Check new sets in order against the limits and move the heads of those that pass; the
    refused ones by index. Call inside the write transaction, before anything is written."""
    if not limits:
        return {}
    heads: dict[Address, Head] = {}
    moved: dict[Address, Head] = {}
    refused: dict[int, LimitExceeded] = {}
    for index, transaction in enumerate(fresh):
        bounded = limits.bounded(transaction.legs)
        if not bounded:
            continue
        now_ms = to_epoch_ms(transaction.recorded_at)
        for account in bounded:
            if account not in heads:
                heads[account] = read_head(connection, account, now_ms) or Head()
        try:
            after = check_limits(transaction.legs, limits, heads)
        except LimitExceeded as error:
            refused[index] = error
            continue
        heads.update(after)
        moved.update(after)
    _write_heads(connection, moved)
    return refused


def _fold(connection: sqlite3.Connection, account: Address) -> Head:
    debits = credits = ZERO
    for side, amount in connection.execute(_MOVEMENTS, account.as_tuple()):
        if side == Side.DEBIT.value:
            debits = MONEY_CONTEXT.add(debits, Decimal(amount))
        else:
            credits = MONEY_CONTEXT.add(credits, Decimal(amount))
    return Head().moved(debits, credits)


def _insert_change(connection: sqlite3.Connection, change: LimitChange) -> int:
    limit = change.limit
    cursor = connection.execute(
        _INSERT_CHANGE,
        (
            str(limit.pattern),
            None if limit.minimum is None else str(limit.minimum),
            None if limit.maximum is None else str(limit.maximum),
            change.changed_by,
            to_epoch_ms(change.changed_at),
        ),
    )
    return int(cursor.lastrowid or 0)


def _align_heads(connection: sqlite3.Connection, limits: Limits) -> None:
    """Every account ``limits`` bound gets a head (folded from its entries); accounts no longer
    bounded lose theirs."""
    have = {row[0] for row in connection.execute(_HEAD_ACCOUNTS)}
    for row in connection.execute(_ACCOUNTS).fetchall():
        account = Address(*row)
        bounded = limits.covering(account) is not None
        if bounded and _key(account) not in have:
            _write_heads(connection, {account: _fold(connection, account)})
        elif not bounded and _key(account) in have:
            connection.execute(_DROP_HEAD, (_key(account),))


def _same(one: LimitChange, other: LimitChange) -> bool:
    return (one.limit, one.changed_by, one.changed_at) == (other.limit, other.changed_by, other.changed_at)


def change_limit(connection: sqlite3.Connection, state: LimitState, change: LimitChange) -> LimitChange:
    """Record a limit change and bring the heads in line (inside a write transaction)."""
    try:
        sequence = _insert_change(connection, change)
        _align_heads(connection, state.refresh(connection))
    except BaseException:
        state.forget()  # rolled back by the caller: the number may be given to another change
        raise
    return LimitChange(change.limit, change.changed_by, change.changed_at, sequence)


def restore_history(connection: sqlite3.Connection, state: LimitState, history: Sequence[LimitChange]) -> int:
    """Give an empty history (or one that is a start of ``history``: a rerun) the rest of
    ``history``, in order, with its who and when (inside a write transaction); how many were added."""
    have = read_history(connection)
    if len(have) > len(history) or not all(_same(a, b) for a, b in zip(have, history, strict=False)):
        raise LedgerError("the ledger has limit changes of its own: restore only into an empty ledger")
    try:
        for change in history[len(have) :]:
            _insert_change(connection, change)
        _align_heads(connection, state.refresh(connection))
    except BaseException:
        state.forget()
        raise
    return len(history) - len(have)
