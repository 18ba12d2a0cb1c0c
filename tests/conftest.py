"""Shared fixtures: every contract test runs against both stores, each test on a fresh ledger."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.base import Store
from ledger_tui.store.url import parse_store_url

from .support.ring import OWN_NODES
from .support.stores import IN_CI, JANITOR, FixedClock, drop_test_keyspaces, store_url

STORE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("cassandra", id="cassandra", marks=pytest.mark.cassandra),
]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave a long-lived dev node as the run found it: drop the test keyspaces still there (CI's
    node is thrown away after the run, so it is spared the wait)."""
    JANITOR.close(wait=not IN_CI)
    if IN_CI:
        return
    try:
        dropped = drop_test_keyspaces()
    except Exception as error:  # the node went away: nothing to clean, and no reason to fail
        print(f"\ntest keyspaces not dropped: {type(error).__name__}")
        return
    if dropped:
        print(f"\ndropped {dropped} test keyspace(s) left on the node")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start nodes of their own go first: under xdist their worker starts on them at
    once, and the rest of the suite runs beside them on the other worker. The ones sharing the
    3-node ring (tests/faults/conftest.py) lead, one after another, so it is stopped before the
    others start nodes of their own."""

    def order(item: pytest.Item) -> tuple[int, int]:
        own = OWN_NODES.mark in item.iter_markers("xdist_group")
        return (0 if own else 1, 0 if "three_node_ring" in getattr(item, "fixturenames", ()) else 1)

    items.sort(key=order)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's LEDGER_* settings or writes to their user directories."""
    for name in list(os.environ):
        if name.startswith("LEDGER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 11, 5, 9, 30, tzinfo=UTC))


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger_url(store_kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty ledger's URL; on Cassandra a keyspace emptied after an earlier test, if any."""
    if store_kind != "cassandra":
        yield store_url(store_kind, tmp_path)
        return
    url = JANITOR.lend()
    yield url
    JANITOR.give_back(url)


@pytest.fixture
def sqlite_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The URL of a fresh embedded ledger, its schema applied through the CLI."""
    from ledger_tui.cli import main

    url = f"sqlite:{tmp_path / 'ledger.sqlite'}"
    assert main(["--store", url, "schema", "apply"]) == 0
    capsys.readouterr()
    return url


@pytest.fixture
async def store(ledger_url: str) -> AsyncIterator[Store]:
    """A connected store with the schema applied, on a fresh ledger; dropped afterwards."""
    opened = open_store(parse_store_url(ledger_url))
    await opened.connect()
    await opened.apply_schema()
    yield opened
    await opened.close()
    if opened.info.kind == "cassandra":
        JANITOR.drop(ledger_url)


@pytest.fixture
def make_engine(store: Store, clock: FixedClock) -> Callable[..., Engine]:
    def build(**options: object) -> Engine:
        return Engine(store, clock=clock, **options)  # type: ignore[arg-type]

    return build


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()
