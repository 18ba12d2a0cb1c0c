"""Fresh ledgers for tests: store URLs on both stores, the test node, a clock tests can move.

The Cassandra leg talks to the real node from ``make cassandra-up`` (or LEDGER_TEST_CASSANDRA,
read once at import, before the suite clears every LEDGER_* variable). When that node cannot be
reached a test skips locally but FAILS under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ledger_tui.domain.limits import Head
    from ledger_tui.domain.model import Address
    from ledger_tui.engine import Engine

from ledger_tui.samples import TRANSACTION, sample_text
from ledger_tui.store.cassandra.marks import MARKS_SETTING, NODE_MAPS
from ledger_tui.store.url import CassandraUrl, SqliteUrl, parse_store_url

CASSANDRA_ENDPOINT = os.environ.get("LEDGER_TEST_CASSANDRA", "127.0.0.1:9042")
IN_CI = os.environ.get("CI", "").lower() == "true"
#: The origin's sample entry set, as shipped in the package.
SAMPLE_JSON = sample_text(TRANSACTION)


def cassandra_endpoint() -> tuple[str, int]:
    """host, port of the test node."""
    host, _, port = CASSANDRA_ENDPOINT.rpartition(":")
    return host or "127.0.0.1", int(port)


def require_cassandra() -> tuple[str, int]:
    """The node's endpoint; fails under CI (never skips there) when it does not answer."""
    host, port = cassandra_endpoint()
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as error:
        message = f"Cassandra test node {host}:{port} unreachable ({error}); run `make cassandra-up`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return host, port


#: Keyspaces the tests made on the node (dropped at the end of the run, see drop_test_keyspaces).
MADE_KEYSPACES: list[str] = []


def store_url(kind: str, tmp_path: Path) -> str:
    """A URL for a brand-new, empty ledger of ``kind``."""
    if kind == "sqlite":
        return f"sqlite:{tmp_path / 'ledger.sqlite'}"
    host, port = require_cassandra()
    keyspace = f"t_{uuid.uuid4().hex[:16]}"
    MADE_KEYSPACES.append(keyspace)
    return f"cassandra://{host}:{port}/{keyspace}"


def wait_until_writing(url: str, process: subprocess.Popen[Any], within_s: float = 120) -> None:
    """Return once the ledger at ``url`` holds a set (SQLite) or a claim (Cassandra): an import is
    under way, so a test cuts it short at a known point instead of after a guessed sleep. Fails if
    ``process`` ends first or nothing is written within ``within_s``."""
    parsed = parse_store_url(url)
    deadline = time.monotonic() + within_s
    if isinstance(parsed, SqliteUrl):
        query = "SELECT 1 FROM transactions LIMIT 1"

        def written() -> bool:
            try:
                with contextlib.closing(sqlite3.connect(f"file:{parsed.path}?mode=ro", uri=True)) as db:
                    return db.execute(query).fetchone() is not None
            except sqlite3.Error:  # not created yet, or locked for a moment
                return False

        poll = written
    else:
        assert isinstance(parsed, CassandraUrl)
        from cassandra.cluster import Cluster

        cluster = Cluster(
            list(parsed.hosts), port=parsed.port, protocol_version=5,
            schema_metadata_enabled=False, token_metadata_enabled=False,
        )  # fmt: skip
        session = cluster.connect()

        def logged() -> bool:
            try:
                claims = session.execute(f"SELECT transaction_id FROM {parsed.keyspace}.entry_sets LIMIT 1")
                return bool(list(claims))
            except Exception:  # the table is not there yet
                return False

        poll = logged
    try:
        while not poll():
            assert process.poll() is None, "the import ended before anything was seen written"
            assert time.monotonic() < deadline, f"nothing written to {url} within {within_s:g} s"
            time.sleep(0.02)
    finally:
        if not isinstance(parsed, SqliteUrl):
            cluster.shutdown()


class KeyspaceJanitor:
    """Drops test ledgers' keyspaces in the background, and keeps emptied ones for the next test,
    on a driver session of its own.

    Why: making a keyspace and dropping it is schema work that costs the node many times what
    emptying every table does (``bench/ledger_churn.py``), and on a 2-core machine the node's CPU
    sets the suite's pace. An emptied ledger is what ``schema apply`` makes of a new keyspace: every
    table, and in ``ledger_settings`` only the marks layout of a new ledger (the counts fixed at
    creation are fixed again from the next test's URL). A keyspace whose tables or columns differ
    (a test made it look like an older ledger) is dropped instead. This session keeps no schema
    metadata and does not wait on drops; the test's own store is closed first.
    """

    def __init__(self) -> None:
        self._cluster: Any = None
        self._session: Any = None
        self._pending: set[Any] = set()
        #: Emptied keyspaces ready for a test, and those handed out (theirs to use, ours to empty).
        self._free: list[str] = []
        self._lent: set[str] = set()
        self._columns: dict[str, int] | None = None

    def _connected(self) -> Any:
        if self._session is None:
            from cassandra.cluster import Cluster

            host, port = cassandra_endpoint()
            self._cluster = Cluster(
                [host],
                port=port,
                protocol_version=5,
                schema_metadata_enabled=False,
                token_metadata_enabled=False,
            )
            self._session = self._cluster.connect()
        return self._session

    def drop(self, url_or_keyspace: str) -> None:
        """Drop the keyspace (of a Cassandra store URL, or named) once the node gets to it; a lent
        one is emptied when it is given back instead."""
        keyspace = _keyspace_of(url_or_keyspace)
        if keyspace in self._lent:
            return
        future = self._connected().execute_async(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        self._pending.add(future)
        future.add_callbacks(lambda _: self._pending.discard(future), lambda _: self._pending.discard(future))

    def lend(self) -> str:
        """The URL of an empty ledger for one test: an emptied one if any is free, else a new
        keyspace (its schema not applied yet). Give it back with ``give_back``."""
        host, port = require_cassandra()
        if self._free:
            keyspace = self._free.pop()
        else:
            keyspace = f"t_{uuid.uuid4().hex[:16]}"
            MADE_KEYSPACES.append(keyspace)
        self._lent.add(keyspace)
        return f"cassandra://{host}:{port}/{keyspace}"

    def give_back(self, url: str) -> None:
        """Empty a lent ledger for the next test, or drop it if it is no longer a ledger as
        ``schema apply`` makes one (or was never made)."""
        keyspace = _keyspace_of(url)
        self._lent.discard(keyspace)
        try:
            self._empty(keyspace)
        except Exception as error:  # the node went away: the keyspace is simply not used again
            print(f"\ntest keyspace {keyspace} not emptied: {type(error).__name__}")

    def _empty(self, keyspace: str) -> None:
        session = self._connected()
        query = "SELECT table_name FROM system_schema.columns WHERE keyspace_name = %s"
        columns: dict[str, int] = {}
        for row in session.execute(query, (keyspace,)):
            columns[row[0]] = columns.get(row[0], 0) + 1
        if set(columns) != SCHEMA_TABLES or (self._columns is not None and columns != self._columns):
            if columns:
                self.drop(keyspace)
            return
        self._columns = self._columns or columns
        for table in sorted(columns):
            session.execute(f"TRUNCATE {keyspace}.{table}", timeout=120)
        session.execute(
            f"INSERT INTO {keyspace}.ledger_settings (name, value) VALUES (%s, %s)",
            (MARKS_SETTING, NODE_MAPS),
        )
        self._free.append(keyspace)

    def close(self, *, wait: bool) -> None:
        """Stop, after the drops sent so far are done when ``wait`` (a dev node is left clean)."""
        if self._session is None:
            return
        if wait:
            for future in list(self._pending):
                # A drop that failed leaves a keyspace that drop_test_keyspaces finds.
                with contextlib.suppress(Exception):
                    future.result()
        self._cluster.shutdown()
        self._session = self._cluster = None


def _keyspace_of(url_or_keyspace: str) -> str:
    return url_or_keyspace.split("?", 1)[0].rsplit("/", 1)[-1]  # a URL may carry options


#: Every table ``schema apply`` makes.
SCHEMA_TABLES = set(
    re.findall(
        r"CREATE TABLE IF NOT EXISTS (\w+)",
        resources.files("ledger_tui.store.cassandra").joinpath("schema.cql").read_text(),
    )
)


#: The one janitor of this test process (closed at the end of the session).
JANITOR = KeyspaceJanitor()


def drop_test_keyspaces() -> int:
    """Drop the keyspaces this run made that are still there (a long-lived dev node otherwise
    keeps them, and their memtables and compactions skew the next benchmark); how many."""
    if not MADE_KEYSPACES:
        return 0
    from cassandra.cluster import Cluster

    host, port = cassandra_endpoint()
    cluster = Cluster([host], port=port, protocol_version=5)
    try:
        session = cluster.connect()
        rows = session.execute("SELECT keyspace_name FROM system_schema.keyspaces")
        left = {row[0] for row in rows} & set(MADE_KEYSPACES)
        for keyspace in sorted(left):
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        return len(left)
    finally:
        cluster.shutdown()


def run_cql(url: str, statement: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    """Run one CQL statement (``{ks}`` names the keyspace of the Cassandra ledger at ``url``) and
    return its rows: for tests that tamper with what the store keeps."""
    from cassandra.cluster import Cluster

    parsed = parse_store_url(url)
    assert not isinstance(parsed, SqliteUrl)
    cluster = Cluster(list(parsed.hosts), port=parsed.port, protocol_version=5)
    try:
        session = cluster.connect()
        return list(session.execute(statement.format(ks=parsed.keyspace), parameters))
    finally:
        cluster.shutdown()


class FixedClock:
    """A clock tests can read and move; the engine stamps recorded times from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def settled_heads(
    engine: Engine, accounts: list[Address], within_s: float = 10.0
) -> dict[Address, Head]:
    """The heads of ``accounts`` once no reservation is left on them (on Cassandra a write posts
    at its heads just after it answers), or as they are after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        heads = await engine.limits().heads(accounts)
        if all(not h.pending_debits and not h.pending_credits for h in heads.values()):
            return heads
        if time.monotonic() > deadline:
            return heads
        await asyncio.sleep(0.05)


def on_fresh_ledger(kind: str, tmp_path: Path, run: Callable[[str], Coroutine[Any, Any, None]]) -> None:
    """Run ``run`` on an empty ledger of ``kind`` (one per property example), emptied again at
    once on Cassandra so examples never pile up on the node."""
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    url = JANITOR.lend() if kind == "cassandra" else store_url(kind, folder)
    try:
        asyncio.run(run(url))
    finally:
        if kind == "cassandra":
            JANITOR.give_back(url)
