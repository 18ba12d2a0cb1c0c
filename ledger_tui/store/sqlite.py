"""Embedded ledger store on SQLite: the zero-setup default with Cassandra's semantics.

All SQLite calls run on one dedicated thread (a connection belongs to its thread), so the
event loop never blocks on disk I/O and writes are serialised exactly as a single writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from ..domain.errors import ConflictingResubmission, StoreUnavailable
from ..domain.model import Address, Entry, RecordedTransaction, Side
from ..domain.paging import Page, PageToken
from ..domain.timeutil import TimeRange, bucket_of, from_epoch_ms, to_epoch_ms
from .base import RecordOutcome, Store, StoreInfo
from .rows import ENTRY_COLUMNS, parent_key, tree_rows

T = TypeVar("T")

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
CREATE TRIGGER IF NOT EXISTS ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS transactions_no_update BEFORE UPDATE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS transactions_no_delete BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are immutable'); END;
"""

_INSERT_ENTRY = f"INSERT INTO ledger_entries ({ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
_INSERT_TRANSACTION = (
    "INSERT INTO transactions (transaction_id, payload_hash, legs, leg_count, recorded_at) VALUES (?,?,?,?,?)"
)
_SELECT_TRANSACTION = (
    "SELECT transaction_id, payload_hash, legs, recorded_at FROM transactions WHERE transaction_id = ?"
)
_INSERT_TREE = "INSERT OR IGNORE INTO account_tree (parent, child) VALUES (?, ?)"
_INSERT_BUCKET = (
    "INSERT OR IGNORE INTO account_buckets "
    "(legal_entity, namespace, name, currency, account_id, time_bucket) VALUES (?,?,?,?,?,?)"
)
_PARTITION_WHERE = (
    "WHERE legal_entity = ? AND namespace = ? AND name = ? AND currency = ? AND account_id = ? "
    "AND time_bucket = ? "
)
# First page of a partition: seek to the range start.
_SELECT_FIRST_ENTRIES = (
    f"SELECT {ENTRY_COLUMNS} FROM ledger_entries {_PARTITION_WHERE}"
    "AND effective_at >= ? AND effective_at < ? ORDER BY effective_at, transaction_id, leg LIMIT ?"
)
# Later pages: seek straight to the last key read. (With the range start also in the WHERE,
# SQLite seeks to the start and scans forward, so page N cost grew with N.)
_SELECT_NEXT_ENTRIES = (
    f"SELECT {ENTRY_COLUMNS} FROM ledger_entries {_PARTITION_WHERE}"
    "AND (effective_at, transaction_id, leg) > (?, ?, ?) AND effective_at < ? "
    "ORDER BY effective_at, transaction_id, leg LIMIT ?"
)
_FAR_FUTURE_MS = 2**62
# Keyset pages: each query takes its key, the last value read ("" at first) and a limit, and
# ends its select list with the column it pages on.
_SELECT_CHILDREN = "SELECT child FROM account_tree WHERE parent = ? AND child > ? ORDER BY child LIMIT ?"
_SELECT_BUCKETS = (
    "SELECT time_bucket FROM account_buckets WHERE legal_entity = ? AND namespace = ? "
    "AND name = ? AND currency = ? AND account_id = ? AND time_bucket > ? ORDER BY time_bucket LIMIT ?"
)
_SCAN_TRANSACTIONS = (
    "SELECT transaction_id, payload_hash, legs, recorded_at, transaction_id FROM transactions "
    "WHERE transaction_id > ? ORDER BY transaction_id LIMIT ?"
)


def _entry_from_row(row: Sequence[Any]) -> Entry:
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


def _transaction_from_row(row: Sequence[Any]) -> RecordedTransaction:
    txid, payload_hash, legs, recorded_at = row[:4]
    return RecordedTransaction(
        transaction_id=uuid.UUID(txid),
        legs=RecordedTransaction.legs_from_json(legs),
        payload_hash=payload_hash,
        recorded_at=from_epoch_ms(recorded_at),
    )


def _entry_row(entry: Entry) -> tuple[Any, ...]:
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


class SqliteStore(Store):
    """The embedded store: one file, WAL journal, one writer thread, same contract as Cassandra."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def info(self) -> StoreInfo:
        return StoreInfo("sqlite", str(self._path))

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self._connection is None:
            raise StoreUnavailable("the embedded store is not open")
        connection = self._connection
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: work(connection))

    async def connect(self) -> None:
        if self._connection is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sqlite")

        def open_connection() -> sqlite3.Connection:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.executescript(SCHEMA)  # an embedded ledger sets itself up
            return connection

        try:
            self._connection = await asyncio.get_running_loop().run_in_executor(executor, open_connection)
        except (sqlite3.Error, OSError) as error:
            executor.shutdown(wait=False)
            raise StoreUnavailable(f"cannot open the embedded store {self._path}: {error}") from None
        self._executor = executor

    async def close(self) -> None:
        if self._connection is None or self._executor is None:
            return
        await self._run(lambda connection: connection.close())
        self._executor.shutdown(wait=True)
        self._connection = None
        self._executor = None

    async def apply_schema(self) -> None:
        await self._run(lambda connection: connection.executescript(SCHEMA))

    async def record(self, transaction: RecordedTransaction) -> RecordOutcome:
        return await self._run(lambda connection: self._record(connection, transaction))

    @staticmethod
    def _record(connection: sqlite3.Connection, transaction: RecordedTransaction) -> RecordOutcome:
        txid = str(transaction.transaction_id)
        connection.execute("BEGIN IMMEDIATE")
        try:
            existing = connection.execute(_SELECT_TRANSACTION, (txid,)).fetchone()
            if existing is not None:
                connection.execute("ROLLBACK")
                earlier = _transaction_from_row(existing)
                if earlier.payload_hash != transaction.payload_hash:
                    raise ConflictingResubmission(transaction.transaction_id)
                return RecordOutcome(earlier, duplicate=True)
            connection.execute(
                _INSERT_TRANSACTION,
                (
                    txid,
                    transaction.payload_hash,
                    transaction.legs_json(),
                    len(transaction.legs),
                    to_epoch_ms(transaction.recorded_at),
                ),
            )
            entries = transaction.entries()
            connection.executemany(_INSERT_ENTRY, [_entry_row(entry) for entry in entries])
            connection.executemany(
                _INSERT_TREE,
                list(tree_rows(e.address for e in entries)),
            )
            connection.executemany(
                _INSERT_BUCKET,
                {(*e.address.as_tuple(), bucket_of(e.effective_at)) for e in entries},
            )
            connection.execute("COMMIT")
        except ConflictingResubmission:
            raise
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return RecordOutcome(transaction, duplicate=False)

    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        row = await self._run(lambda c: c.execute(_SELECT_TRANSACTION, (str(transaction_id),)).fetchone())
        return None if row is None else _transaction_from_row(row)

    async def _rows_after(
        self, query: str, key: tuple[Any, ...], after: PageToken | None, page_size: int
    ) -> tuple[list[Any], PageToken | None]:
        """One page of a keyset query: ``query`` takes ``key``, the last key read, and a limit.

        One row beyond the page is read so a token is returned only when more rows exist.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        last = "" if after is None else after.state
        rows = await self._run(lambda c: c.execute(query, (*key, last, page_size + 1)).fetchall())
        if len(rows) <= page_size:
            return rows, None
        return rows[:page_size], PageToken(rows[page_size - 1][-1])

    async def list_children(
        self, parent: tuple[str, ...], page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._rows_after(_SELECT_CHILDREN, (parent_key(parent),), token, page_size)
        return Page([row[0] for row in rows], next_token)

    async def list_buckets(
        self, address: Address, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._rows_after(_SELECT_BUCKETS, address.as_tuple(), token, page_size)
        return Page([row[0] for row in rows], next_token)

    async def read_bucket(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        start_ms = -_FAR_FUTURE_MS if time_range.start is None else to_epoch_ms(time_range.start)
        end_ms = _FAR_FUTURE_MS if time_range.end is None else to_epoch_ms(time_range.end)
        partition = (*address.as_tuple(), bucket)
        if token is None:
            query, parameters = _SELECT_FIRST_ENTRIES, (*partition, start_ms, end_ms, page_size + 1)
        else:  # the last key read is inside the range, so it bounds the start too
            resume = token.state
            assert isinstance(resume, tuple), "page token from another kind of read"
            query, parameters = _SELECT_NEXT_ENTRIES, (*partition, *resume, end_ms, page_size + 1)
        rows = await self._run(lambda c: c.execute(query, parameters).fetchall())
        entries = [_entry_from_row(row) for row in rows[:page_size]]
        if len(rows) <= page_size:
            return Page(entries)
        last = rows[page_size - 1]
        return Page(entries, PageToken((last[6], last[7], last[8])))

    async def scan_transactions(
        self, page_size: int, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        rows, next_token = await self._rows_after(_SCAN_TRANSACTIONS, (), token, page_size)
        return Page([_transaction_from_row(row) for row in rows], next_token)
