"""Fresh ledgers for tests: store URLs on both stores, the test node, a clock tests can move.

The Cassandra leg talks to the real node from ``make cassandra-up`` (or LEDGER_TEST_CASSANDRA,
read once at import, before the suite clears every LEDGER_* variable). When that node cannot be
reached a test skips locally but FAILS under CI=true.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger_tui.samples import TRANSACTION, sample_text

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


async def drop_keyspace_of(url: str) -> None:
    """Drop the keyspace of a Cassandra store URL (a test's ledger, when the test is done)."""
    from ledger_tui.ledger import open_store
    from ledger_tui.store.url import parse_store_url

    store = open_store(parse_store_url(url))
    await store.connect()
    await store._execute("DROP KEYSPACE IF EXISTS " + url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    await store.close()


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


class FixedClock:
    """A clock tests can read and move; the engine stamps recorded times from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
