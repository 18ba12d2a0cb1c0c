"""Fresh ledgers for tests: store URLs on both stores, the test node, a clock tests can move.

The Cassandra leg talks to the real node from ``make cassandra-up`` (or LEDGER_TEST_CASSANDRA,
read once at import, before the suite clears every LEDGER_* variable). When that node cannot be
reached a test skips locally but FAILS under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ledger_tui.domain.limits import Head
    from ledger_tui.domain.model import Address
    from ledger_tui.engine import Engine

from ledger_tui.samples import TRANSACTION, sample_text
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
    """Drops test ledgers' keyspaces in the background, on a driver session of its own.

    Why: a test waited ~0.5-0.8 s for each DROP, and every connected driver that keeps schema
    metadata re-read it after the change. This session keeps none and does not wait; the test's
    own store is closed first, so only the drop itself costs the node anything.
    """

    def __init__(self) -> None:
        self._cluster: Any = None
        self._session: Any = None
        self._pending: set[Any] = set()

    def drop(self, url_or_keyspace: str) -> None:
        """Drop the keyspace (of a Cassandra store URL, or named) once the node gets to it."""
        keyspace = url_or_keyspace.split("?", 1)[0].rsplit("/", 1)[-1]  # a URL may carry options
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
        future = self._session.execute_async(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        self._pending.add(future)
        future.add_callbacks(lambda _: self._pending.discard(future), lambda _: self._pending.discard(future))

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
    """Run ``run`` on a brand-new ledger of ``kind`` (one per property example), dropping its
    keyspace at once on Cassandra so examples never pile up on the node."""
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    url = store_url(kind, folder)
    try:
        asyncio.run(run(url))
    finally:
        if kind == "cassandra":
            JANITOR.drop(url)
