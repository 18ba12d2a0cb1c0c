"""The SQLite store's schema, statements and row conversions (the same rows as Cassandra's).

Times are integer epoch milliseconds and amounts exact decimal text; keyset pages end their
select list with the column they page on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ...domain.model import Address, Entry, RecordedTransaction, Side
from ...domain.timeutil import bucket_of, from_epoch_ms, to_epoch_ms
from ..rows import ENTRY_COLUMNS

SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id TEXT PRIMARY KEY,
    payload_hash   TEXT NOT NULL,
    legs           TEXT NOT NULL,
    leg_count      INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_entries (
    legal_entity   TEXT NOT NULL,
    namespace      TEXT NOT NULL,
    name           TEXT NOT NULL,
    currency       TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    time_bucket    TEXT NOT NULL,
    effective_at   INTEGER NOT NULL,
    transaction_id TEXT NOT NULL,
    leg            INTEGER NOT NULL,
    side           TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
    amount         TEXT NOT NULL,
    description    TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL,
    PRIMARY KEY (legal_entity, namespace, name, currency, account_id, time_bucket,
                 effective_at, transaction_id, leg)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_tree (
    parent TEXT NOT NULL,
    child  TEXT NOT NULL,
    PRIMARY KEY (parent, child)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_buckets (
    legal_entity TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    currency     TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    time_bucket  TEXT NOT NULL,
    PRIMARY KEY (legal_entity, namespace, name, currency, account_id, time_bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balance_blocks (
    node     TEXT NOT NULL,
    day      INTEGER NOT NULL,
    debits   TEXT NOT NULL,
    credits  TEXT NOT NULL,
    entry_count INTEGER NOT NULL,
    cutoff   INTEGER NOT NULL,
    PRIMARY KEY (node, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seal_state (
    node           TEXT PRIMARY KEY,
    sealed_through INTEGER NOT NULL,
    cutoff         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS late_marks (
    node      TEXT NOT NULL,
    day       INTEGER NOT NULL,
    last_late INTEGER NOT NULL,
    PRIMARY KEY (node, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_activity (
    node       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (node, day, account_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS future_activity (
    node       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (node, day, account_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
-- The change feed: one row per new set, in commit order (written in the set's own transaction,
-- so it never disagrees with the ledger). A ledger made before it gets its sets in recorded order.
CREATE TABLE IF NOT EXISTS change_log (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS change_log_no_update BEFORE UPDATE ON change_log
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS change_log_no_delete BEFORE DELETE ON change_log
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS transactions_no_update BEFORE UPDATE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS transactions_no_delete BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are immutable'); END;
"""

INSERT_ENTRY = f"INSERT INTO ledger_entries ({ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
INSERT_TRANSACTION = (
    "INSERT INTO transactions (transaction_id, payload_hash, legs, leg_count, recorded_at) VALUES (?,?,?,?,?)"
)
INSERT_CHANGE = "INSERT INTO change_log (transaction_id) VALUES (?)"
# A ledger made before the change log: its sets numbered in recorded order, once. Asked first by a
# read, since an INSERT takes the write lock even when it adds nothing (readers never wait on it).
NEEDS_CHANGE_BACKFILL = "SELECT NOT EXISTS (SELECT 1 FROM change_log) AND EXISTS (SELECT 1 FROM transactions)"
BACKFILL_CHANGES = (
    "INSERT INTO change_log (transaction_id) SELECT transaction_id FROM transactions "
    "WHERE NOT EXISTS (SELECT 1 FROM change_log) ORDER BY recorded_at, transaction_id"
)
# A hold event's row names the hold, and change_kinds says which event (a set's row has none).
SELECT_CHANGES = (
    "SELECT c.seq, k.kind, coalesce(t.transaction_id, h.hold_id), coalesce(t.payload_hash, h.payload_hash), "
    "coalesce(t.legs, h.legs), coalesce(t.recorded_at, h.recorded_at), h.expires_at, o.at FROM change_log c "
    "LEFT JOIN change_kinds k ON k.seq = c.seq "
    "LEFT JOIN transactions t ON k.kind IS NULL AND t.transaction_id = c.transaction_id "
    "LEFT JOIN holds h ON k.kind IS NOT NULL AND h.hold_id = c.transaction_id "
    "LEFT JOIN hold_outcomes o ON k.kind IN ('hold.voided', 'hold.expired') "
    "AND o.hold_id = c.transaction_id "
    "WHERE c.seq > ? ORDER BY c.seq LIMIT ?"
)
SELECT_LAST_CHANGE = "SELECT coalesce(max(seq), 0) FROM change_log"
SELECT_TRANSACTION = (
    "SELECT transaction_id, payload_hash, legs, recorded_at FROM transactions WHERE transaction_id = ?"
)
INSERT_TREE = "INSERT OR IGNORE INTO account_tree (parent, child) VALUES (?, ?)"
INSERT_BUCKET = (
    "INSERT OR IGNORE INTO account_buckets "
    "(legal_entity, namespace, name, currency, account_id, time_bucket) VALUES (?,?,?,?,?,?)"
)
_PARTITION_WHERE = (
    "WHERE legal_entity = ? AND namespace = ? AND name = ? AND currency = ? AND account_id = ? "
    "AND time_bucket = ? "
)
# First page of a partition: seek to the range start.
SELECT_FIRST_ENTRIES = (
    f"SELECT {ENTRY_COLUMNS} FROM ledger_entries {_PARTITION_WHERE}"
    "AND effective_at >= ? AND effective_at < ? ORDER BY effective_at, transaction_id, leg LIMIT ?"
)
# Later pages: seek straight to the last key read. (With the range start also in the WHERE,
# SQLite seeks to the start and scans forward, so page N cost grew with N.)
SELECT_NEXT_ENTRIES = (
    f"SELECT {ENTRY_COLUMNS} FROM ledger_entries {_PARTITION_WHERE}"
    "AND (effective_at, transaction_id, leg) > (?, ?, ?) AND effective_at < ? "
    "ORDER BY effective_at, transaction_id, leg LIMIT ?"
)
FAR_FUTURE_MS = 2**62
INSERT_ACTIVITY = "INSERT OR IGNORE INTO day_activity (node, day, account_id) VALUES (?, ?, ?)"
INSERT_FUTURE = "INSERT OR IGNORE INTO future_activity (node, day, account_id) VALUES (?, ?, ?)"
SELECT_FUTURE = (
    "SELECT day, account_id FROM future_activity WHERE node = ? AND day >= ? AND day < ? "
    "ORDER BY day, account_id"
)
# Derived rows only move forward: the later mark, the later cut, the later seal run wins.
INSERT_MARK = (
    "INSERT INTO late_marks (node, day, last_late) VALUES (?, ?, ?) "
    "ON CONFLICT (node, day) DO UPDATE SET last_late = max(last_late, excluded.last_late)"
)
WRITE_BLOCK = (
    "INSERT INTO balance_blocks (node, day, debits, credits, entry_count, cutoff) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (node, day) DO UPDATE SET debits = excluded.debits, credits = excluded.credits, "
    "entry_count = excluded.entry_count, cutoff = excluded.cutoff "
    "WHERE excluded.cutoff > balance_blocks.cutoff"
)
WRITE_SEAL_STATE = (
    "INSERT INTO seal_state (node, sealed_through, cutoff) VALUES (?, ?, ?) "
    "ON CONFLICT (node) DO UPDATE SET sealed_through = excluded.sealed_through, cutoff = excluded.cutoff "
    "WHERE excluded.cutoff > seal_state.cutoff"
)
SELECT_SEAL_STATE = "SELECT sealed_through, cutoff FROM seal_state WHERE node = ?"
SELECT_SETTINGS = "SELECT name, value FROM ledger_settings"
KEEP_SETTING = "INSERT OR IGNORE INTO ledger_settings (name, value) VALUES (?, ?)"
SELECT_SETTING = "SELECT value FROM ledger_settings WHERE name = ?"
REPLACE_SETTING = "UPDATE ledger_settings SET value = ? WHERE name = ? AND value = ?"
_MOVEMENT_COLUMNS = "effective_at, recorded_at, side, amount, transaction_id, leg"
SELECT_FIRST_MOVEMENTS = SELECT_FIRST_ENTRIES.replace(ENTRY_COLUMNS, _MOVEMENT_COLUMNS)
SELECT_NEXT_MOVEMENTS = SELECT_NEXT_ENTRIES.replace(ENTRY_COLUMNS, _MOVEMENT_COLUMNS)
# Keyset pages: each query takes its key, the last value read ("" at first) and a limit, and
# ends its select list with the column it pages on.
SELECT_CHILDREN = "SELECT child FROM account_tree WHERE parent = ? AND child > ? ORDER BY child LIMIT ?"
SELECT_BUCKETS = (
    "SELECT time_bucket FROM account_buckets WHERE legal_entity = ? AND namespace = ? "
    "AND name = ? AND currency = ? AND account_id = ? AND time_bucket > ? ORDER BY time_bucket LIMIT ?"
)
SELECT_BLOCKS = (
    "SELECT day, debits, credits, entry_count, cutoff, day FROM balance_blocks "
    "WHERE node = ? AND day < ? AND day > ? ORDER BY day LIMIT ?"
)
SELECT_MARKS = (
    "SELECT day, last_late, day FROM late_marks WHERE node = ? AND day < ? AND day > ? ORDER BY day LIMIT ?"
)
SELECT_ACTIVITY = (
    "SELECT account_id FROM day_activity WHERE node = ? AND day = ? AND account_id > ? "
    "ORDER BY account_id LIMIT ?"
)
SCAN_TRANSACTIONS = (
    "SELECT transaction_id, payload_hash, legs, recorded_at, transaction_id FROM transactions "
    "WHERE transaction_id > ? ORDER BY transaction_id LIMIT ?"
)


def entry_from_row(row: Sequence[Any]) -> Entry:
    le, ns, name, cur, acct, _bucket, eff, txid, leg, side, amount, desc, rec = row
    return Entry(
        address=Address(le, ns, name, cur, acct),
        side=Side(side),
        amount=Decimal(amount),
        description=desc,
        effective_at=from_epoch_ms(eff),
        transaction_id=uuid.UUID(txid),
        leg_index=leg,
        recorded_at=from_epoch_ms(rec),
    )


def transaction_from_row(row: Sequence[Any]) -> RecordedTransaction:
    txid, payload_hash, legs, recorded_at = row[:4]
    return RecordedTransaction(
        transaction_id=uuid.UUID(txid),
        legs=RecordedTransaction.legs_from_json(legs),
        payload_hash=payload_hash,
        recorded_at=from_epoch_ms(recorded_at),
    )


def entry_row(entry: Entry) -> tuple[Any, ...]:
    return (
        *entry.address.as_tuple(),
        bucket_of(entry.effective_at),
        to_epoch_ms(entry.effective_at),
        str(entry.transaction_id),
        entry.leg_index,
        entry.side.value,
        str(entry.amount),
        entry.description,
        to_epoch_ms(entry.recorded_at),
    )
