"""Console test fixtures: an engine per test, and the fixed ledgers the snapshots are taken on.

The store comes from the root conftest's ``store`` fixture (a fresh ledger per test, a fresh
keyspace on the real node); snapshots stay on SQLite, where a fixed file label keeps them stable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_tui.engine import Engine
from ledger_tui.ledger import read_named_balances
from ledger_tui.store.base import Store

from ..support.console import NOW, make_ledger, new_engine


@pytest.fixture
def engine(store: Store) -> Engine:
    """A connected engine over an empty ledger with a fixed clock and the sample named balances."""
    return Engine(store, clock=lambda: NOW, named_balances=read_named_balances(None))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine (not connected: the app connects it) over a ledger holding the fixed data."""
    engine = new_engine(make_ledger(tmp_path / "ledger.sqlite"))
    yield engine
    asyncio.run(engine.close())


@pytest.fixture
def empty_ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine over a ledger with the schema and no entries."""
    engine = new_engine(make_ledger(tmp_path / "empty.sqlite", data=False))
    yield engine
    asyncio.run(engine.close())
