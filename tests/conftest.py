"""Shared fixtures: every contract test runs against both stores, each test on a fresh ledger.

The Cassandra leg talks to the real node from ``make cassandra-up`` (or LEDGER_TEST_CASSANDRA).
When that node cannot be reached the leg skips locally but FAILS under CI=true.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger_tui.engine import Engine
from ledger_tui.store.base import Store
from ledger_tui.store.url import parse_store_url
from ledger_tui.stores import open_store

STORE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("cassandra", id="cassandra", marks=pytest.mark.cassandra),
]


def cassandra_endpoint() -> tuple[str, int]:
    """host, port of the test node."""
    host, _, port = os.environ.get("LEDGER_TEST_CASSANDRA", "127.0.0.1:9042").rpartition(":")
    return host or "127.0.0.1", int(port)


def require_cassandra() -> tuple[str, int]:
    """The node's endpoint; fails under CI (never skips there) when it does not answer."""
    host, port = cassandra_endpoint()
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as error:
        message = f"Cassandra test node {host}:{port} unreachable ({error}); run `make cassandra-up`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return host, port


def store_url(kind: str, tmp_path: Path) -> str:
    """A URL for a brand-new, empty ledger of ``kind``."""
    if kind == "sqlite":
        return f"sqlite:{tmp_path / 'ledger.sqlite'}"
    host, port = require_cassandra()
    return f"cassandra://{host}:{port}/t_{uuid.uuid4().hex[:16]}"


class FixedClock:
    """A clock tests can read and move; the engine stamps recorded times from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 11, 5, 9, 30, tzinfo=UTC))


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger_url(store_kind: str, tmp_path: Path) -> str:
    return store_url(store_kind, tmp_path)


@pytest.fixture
async def store(ledger_url: str) -> AsyncIterator[Store]:
    """A connected store with the schema applied, on a fresh ledger; dropped afterwards."""
    opened = open_store(parse_store_url(ledger_url))
    await opened.connect()
    await opened.apply_schema()
    yield opened
    if opened.info.kind == "cassandra":
        keyspace = ledger_url.rsplit("/", 1)[1]
        await opened._execute("DROP KEYSPACE IF EXISTS " + keyspace)  # type: ignore[attr-defined]
    await opened.close()


@pytest.fixture
def make_engine(store: Store, clock: FixedClock) -> Callable[..., Engine]:
    def build(**options: object) -> Engine:
        return Engine(store, clock=clock, **options)  # type: ignore[arg-type]

    return build


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


SAMPLE_PATH = Path(__file__).resolve().parent.parent / "sample_data" / "transaction.json"
