"""Console test fixtures: the flow tests' ``engine`` runs on both stores (SQLite and Cassandra).

The store comes from the root conftest's ``store`` fixture (a fresh ledger per test, a fresh
keyspace on the real node); snapshots stay on SQLite, where a fixed file label keeps them stable.
"""

from __future__ import annotations

import pytest

from ledger_tui.engine import Engine
from ledger_tui.ledger import read_named_balances
from ledger_tui.store.base import Store

from ..support.console import NOW


@pytest.fixture
def engine(store: Store) -> Engine:
    """A connected engine over an empty ledger with a fixed clock and the sample named balances."""
    return Engine(store, clock=lambda: NOW, named_balances=read_named_balances(None))
