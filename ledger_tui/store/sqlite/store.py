"""Embedded ledger store on SQLite: the zero-setup default with Cassandra's semantics.

All SQLite calls run on one dedicated thread (a connection belongs to its thread), so the
event loop never blocks on disk I/O and writes are serialised exactly as a single writer.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from ...domain.blocks import DayBlock, SealPolicy, SealState, node_key
from ...domain.changes import ChangePage
from ...domain.claims import RecordOutcome
from ...domain.errors import StoreBusy, StoreUnavailable, ValidationError
from ...domain.holds import Hold, HoldOutcome, HoldRefused, Pending
from ...domain.limits import Head, LimitChange
from ...domain.model import Address, Entry, Movement, RecordedTransaction, Side
from ...domain.paging import Page, PageToken
from ...domain.timeutil import TimeRange, from_epoch_ms, to_epoch_ms
from ..base import Store, StoreInfo
from . import changes, holds, limits
from .holds import HOLDS_SCHEMA
from .limits import LIMITS_SCHEMA
from .sql import (
    BACKFILL_CHANGES,
    FAR_FUTURE_MS,
    KEEP_SETTING,
    NEEDS_CHANGE_BACKFILL,
    REPLACE_SETTING,
    SCAN_TRANSACTIONS,
    SCHEMA,
    SELECT_ACTIVITY,
    SELECT_BLOCKS,
    SELECT_BUCKETS,
    SELECT_CHILDREN,
    SELECT_FIRST_ENTRIES,
    SELECT_FIRST_MOVEMENTS,
    SELECT_FUTURE,
    SELECT_MARKS,
    SELECT_NEXT_ENTRIES,
    SELECT_NEXT_MOVEMENTS,
    SELECT_SEAL_STATE,
    SELECT_SETTING,
    SELECT_SETTINGS,
    SELECT_TRANSACTION,
    WRITE_BLOCK,
    WRITE_SEAL_STATE,
    entry_from_row,
    transaction_from_row,
)
from .writes import in_write, record_in

#: Every table of an embedded ledger (created when it is opened).
FULL_SCHEMA = SCHEMA + LIMITS_SCHEMA + HOLDS_SCHEMA
T = TypeVar("T")
_SIDES = {side.value: side for side in Side}
#: Errors of the file or the lock, not of our SQL: the store is unavailable (or busy), exit 3.
_STORE_ERRORS = (sqlite3.OperationalError, sqlite3.DatabaseError)
_OUR_ERRORS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


def create_private(path: Path) -> None:
    """Create the ledger's missing directories 0700 and its file 0600 (a ledger is private data);
    what already exists is left as it is."""
    missing = []
    directory = path.parent
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700)
        directory.chmod(0o700)  # mkdir applies the umask; a ledger's directory is private anyway
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        path.chmod(0o600)  # SQLite gives its -wal and -shm files the database file's mode


def store_error(path: Path, busy_timeout_s: int, error: sqlite3.Error) -> StoreUnavailable:
    """What a SQLite failure means for the operator: busy (lock held too long) or unavailable."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(error):
        return StoreBusy(
            f"another process held the write lock of {path} for more than {busy_timeout_s} s "
            f"(retry, or wait longer with sqlite:PATH?busy_timeout=SECONDS)"
        )
    return StoreUnavailable(f"the embedded store {path} failed: {error}")


class SqliteStore(Store):
    """The embedded store: one file, WAL journal, one writer thread, same contract as Cassandra.

    ``synchronous=FULL``: a committed entry set survives a power cut, not only a crash of the
    process, at the cost of one WAL fsync per committed set.
    """

    def __init__(self, path: Path, busy_timeout_s: int = 5, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._synchronous = synchronous
        self._connection: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._limits = limits.LimitState()

    @property
    def info(self) -> StoreInfo:
        return StoreInfo("sqlite", str(self._path))

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self._connection is None:
            raise StoreUnavailable("the embedded store is not open")
        connection = self._connection
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: work(connection))
        except UnicodeEncodeError as error:  # the domain refuses such text first; never a traceback
            raise ValidationError.single("", f"text cannot be stored as UTF-8: {error.reason}") from None
        except _OUR_ERRORS:
            raise
        except _STORE_ERRORS as error:
            raise store_error(self._path, self._busy_timeout_s, error) from None

    async def connect(self) -> None:
        if self._connection is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sqlite")

        def open_connection() -> sqlite3.Connection:
            create_private(self._path)
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            try:
                connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_s * 1000}")
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(f"PRAGMA synchronous={self._synchronous}")  # one of three words
                connection.executescript(
                    SCHEMA + LIMITS_SCHEMA + HOLDS_SCHEMA
                )  # an embedded ledger sets itself up
                if connection.execute(NEEDS_CHANGE_BACKFILL).fetchone()[0]:
                    connection.execute(BACKFILL_CHANGES)
            except BaseException:
                connection.close()
                raise
            return connection

        try:
            self._connection = await asyncio.get_running_loop().run_in_executor(executor, open_connection)
        except sqlite3.Error as error:
            executor.shutdown(wait=False)
            failure = store_error(self._path, self._busy_timeout_s, error)
            if isinstance(failure, StoreBusy):
                raise failure from None
            raise StoreUnavailable(f"cannot open the embedded store {self._path}: {error}") from None
        except OSError as error:
            executor.shutdown(wait=False)
            reason = error.strerror or str(error)
            raise StoreUnavailable(f"cannot open the embedded store {self._path}: {reason}") from None
        self._executor = executor

    async def close(self) -> None:
        if self._connection is None or self._executor is None:
            return
        await self._run(lambda connection: connection.close())
        self._executor.shutdown(wait=True)
        self._connection = None
        self._executor = None

    async def apply_schema(self) -> None:
        await self._run(lambda connection: connection.executescript(FULL_SCHEMA))

    async def record_many(
        self,
        transactions: Sequence[RecordedTransaction],
        policy: SealPolicy,
        complete_duplicates: bool = True,
    ) -> list[RecordOutcome]:
        return await self._run(
            lambda c: in_write(c, lambda c: record_in(c, self._limits, transactions, policy))
        )

    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        row = await self._run(lambda c: c.execute(SELECT_TRANSACTION, (str(transaction_id),)).fetchone())
        return None if row is None else transaction_from_row(row)

    async def _rows_after(
        self, query: str, key: tuple[Any, ...], after: PageToken | None, page_size: int, first: object = ""
    ) -> tuple[list[Any], PageToken | None]:
        """One page of a keyset query: ``query`` takes ``key``, the last key read, and a limit.

        One row beyond the page is read so a token is returned only when more rows exist.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        last = first if after is None else after.state
        rows = await self._run(lambda c: c.execute(query, (*key, last, page_size + 1)).fetchall())
        if len(rows) <= page_size:
            return rows, None
        return rows[:page_size], PageToken(rows[page_size - 1][-1])

    async def list_children(
        self, parent: tuple[str, ...], page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._rows_after(SELECT_CHILDREN, (node_key(parent),), token, page_size)
        return Page([row[0] for row in rows], next_token)

    async def list_buckets(
        self, address: Address, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._rows_after(SELECT_BUCKETS, address.as_tuple(), token, page_size)
        return Page([row[0] for row in rows], next_token)

    async def _partition_page(
        self,
        queries: tuple[str, str],
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None,
        key_at: tuple[int, int, int],
    ) -> tuple[list[Any], PageToken | None]:
        """One page of one partition in ledger order; the token is the last key read."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        start_ms = -FAR_FUTURE_MS if time_range.start is None else to_epoch_ms(time_range.start)
        end_ms = FAR_FUTURE_MS if time_range.end is None else to_epoch_ms(time_range.end)
        partition = (*address.as_tuple(), bucket)
        if token is None:
            query, parameters = queries[0], (*partition, start_ms, end_ms, page_size + 1)
        else:  # the last key read is inside the range, so it bounds the start too
            resume = token.state
            assert isinstance(resume, tuple), "page token from another kind of read"
            query, parameters = queries[1], (*partition, *resume, end_ms, page_size + 1)
        rows = await self._run(lambda c: c.execute(query, parameters).fetchall())
        if len(rows) <= page_size:
            return rows, None
        last = rows[page_size - 1]
        return rows[:page_size], PageToken(tuple(last[i] for i in key_at))

    async def read_bucket(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        queries = (SELECT_FIRST_ENTRIES, SELECT_NEXT_ENTRIES)
        rows, next_token = await self._partition_page(
            queries, address, bucket, time_range, page_size, token, (6, 7, 8)
        )
        return Page([entry_from_row(row) for row in rows], next_token)

    async def read_movements(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Movement]:
        queries = (SELECT_FIRST_MOVEMENTS, SELECT_NEXT_MOVEMENTS)
        rows, next_token = await self._partition_page(
            queries, address, bucket, time_range, page_size, token, (0, 4, 5)
        )
        return Page([Movement(row[0], row[1], _SIDES[row[2]], Decimal(row[3])) for row in rows], next_token)

    async def scan_transactions(
        self, page_size: int, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        rows, next_token = await self._rows_after(SCAN_TRANSACTIONS, (), token, page_size)
        return Page([transaction_from_row(row) for row in rows], next_token)

    async def read_changes(
        self, cursor: str | None, limit: int, fresh: frozenset[str] | None = None
    ) -> ChangePage:
        after = changes.seq_of(cursor)
        return await self._run(lambda c: changes.read_changes(c, after, max(1, limit)))

    async def change_cursor_now(self) -> str:
        return await self._run(changes.last_change)

    # -- settings and balance blocks -----------------------------------------------------------

    async def read_limit_history(self) -> list[LimitChange]:
        return await self._run(limits.read_history)

    async def change_limit(self, change: LimitChange, policy: SealPolicy) -> LimitChange:
        return await self._run(lambda c: in_write(c, lambda c: limits.change_limit(c, self._limits, change)))

    async def read_heads(self, accounts: Sequence[Address], at: datetime) -> dict[Address, Head]:
        return await self._run(lambda c: limits.read_heads(c, accounts, to_epoch_ms(at)))

    async def place_hold(self, transaction: RecordedTransaction, expires_at: datetime) -> tuple[Hold, bool]:
        return await self._run(
            lambda c: in_write(c, lambda c: holds.place(c, self._limits, transaction, expires_at))
        )

    async def settle_hold(
        self,
        hold_id: uuid.UUID,
        outcome: HoldOutcome,
        now: datetime,
        capture: RecordedTransaction | None,
        policy: SealPolicy,
    ) -> tuple[Hold, bool]:
        settled = await self._run(
            lambda c: in_write(
                c, lambda c: holds.settle(c, self._limits, hold_id, outcome, now, capture, policy)
            )
        )
        if isinstance(settled, HoldRefused):  # raised after the commit: an expiry met is recorded
            raise settled
        return settled

    async def read_hold(self, hold_id: uuid.UUID) -> Hold | None:
        return await self._run(lambda c: holds.read_hold(c, hold_id))

    async def restore_holds_and_limits(self, every: Sequence[Hold], history: Sequence[LimitChange]) -> int:
        def work(c: sqlite3.Connection) -> int:
            return holds.restore(c, every) + limits.restore_history(c, self._limits, history)

        return await self._run(lambda c: in_write(c, work))

    async def read_holds(self, open_only: bool = True) -> list[Hold]:
        return await self._run(lambda c: holds.read_holds(c, open_only))

    async def read_pending(self, at: datetime) -> dict[Address, Pending]:
        return await self._run(lambda c: holds.pending_now(c, at))

    async def sweep_holds(self, now: datetime, policy: SealPolicy) -> int:
        return await self._run(lambda c: in_write(c, lambda c: holds.sweep(c, now)))

    async def read_settings(self) -> dict[str, str]:
        rows = await self._run(lambda c: c.execute(SELECT_SETTINGS).fetchall())
        return {name: value for name, value in rows}

    async def keep_setting(self, name: str, value: str) -> str:
        def keep(connection: sqlite3.Connection) -> str:
            connection.execute(KEEP_SETTING, (name, value))
            return str(connection.execute(SELECT_SETTING, (name,)).fetchone()[0])

        return await self._run(keep)

    async def replace_setting(self, name: str, old: str, new: str) -> str:
        def replace(connection: sqlite3.Connection) -> str:
            connection.execute(REPLACE_SETTING, (new, name, old))
            found = connection.execute(SELECT_SETTING, (name,)).fetchone()
            return "" if found is None else str(found[0])

        return await self._run(replace)

    async def read_seal_state(self, node: str) -> SealState | None:
        row = await self._run(lambda c: c.execute(SELECT_SEAL_STATE, (node,)).fetchone())
        return None if row is None else SealState(row[0], from_epoch_ms(row[1]))

    async def write_seal_state(self, node: str, state: SealState) -> None:
        parameters = (node, state.sealed_through, to_epoch_ms(state.cutoff))
        await self._run(lambda c: c.execute(WRITE_SEAL_STATE, parameters))

    async def read_blocks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[DayBlock]:
        rows, next_token = await self._rows_after(
            SELECT_BLOCKS, (node, until_day), token, page_size, first=first_day - 1
        )
        return Page(
            [DayBlock(r[0], Decimal(r[1]), Decimal(r[2]), r[3], from_epoch_ms(r[4])) for r in rows],
            next_token,
        )

    async def write_blocks(self, node: str, blocks: Sequence[DayBlock]) -> None:
        rows = [
            (node, b.day, str(b.debits), str(b.credits), b.entries, to_epoch_ms(b.cutoff)) for b in blocks
        ]

        def write(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(WRITE_BLOCK, rows)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        await self._run(write)

    async def read_marks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[tuple[int, datetime]]:
        rows, next_token = await self._rows_after(
            SELECT_MARKS, (node, until_day), token, page_size, first=first_day - 1
        )
        return Page([(row[0], from_epoch_ms(row[1])) for row in rows], next_token)

    async def read_day_activity(
        self, node: str, day: int, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._rows_after(SELECT_ACTIVITY, (node, day), token, page_size)
        return Page([row[0] for row in rows], next_token)

    async def read_future_activity(self, node: str, first_day: int, until_day: int) -> list[tuple[int, str]]:
        rows = await self._run(lambda c: c.execute(SELECT_FUTURE, (node, first_day, until_day)).fetchall())
        return [(row[0], row[1]) for row in rows]
