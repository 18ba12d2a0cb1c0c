"""Console test fixtures: an engine per test, the fixed ledgers snapshots are taken on, the stores.

Why UI tests run on the embedded store: the console talks only to the engine, and the contract
tests hold both stores to the same engine behaviour. Tests marked ``both_stores`` (flows through
paging, as-of reads, claims) run on Cassandra too; ``make test-console-stores`` runs them all on
both (LEDGER_CONSOLE_STORES=all). Snapshots stay on SQLite, where a fixed file label keeps them stable.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.engine import Engine
from ledger_tui.ledger import read_named_balances
from ledger_tui.store.base import Store

from ..support.console import ALICE, CAROL, FEES_GBP, NOW, OPS_GBP, fixed_id, make_ledger, new_engine

#: Read once at import, before the suite clears every LEDGER_* variable for each test.
ALL_STORES = os.environ.get("LEDGER_CONSOLE_STORES", "") == "all"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the Cassandra run of console tests not marked ``both_stores`` (unless asked for all)."""
    if ALL_STORES:
        return
    here = Path(__file__).parent
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_cassandra = callspec is not None and callspec.params.get("store_kind") == "cassandra"
        if on_cassandra and here in item.path.parents and item.get_closest_marker("both_stores") is None:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


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


@pytest.fixture
def shared_file(tmp_path: Path) -> Path:
    """A ledger file holding the fixed data, for two engines at once."""
    return make_ledger(tmp_path / "shared.sqlite")


@pytest.fixture
async def shared_ledger(shared_file: Path) -> AsyncIterator[tuple[Engine, Engine]]:
    """Two engines over one ledger file holding the fixed data: the console's (the app connects
    it) and another process's, connected, to commit sets the console did not write."""
    console, elsewhere = new_engine(shared_file), new_engine(shared_file)
    await elsewhere.connect()
    yield console, elsewhere
    await elsewhere.close()
    await console.close()


def _legs(payer: Address, payee: Address, *amounts: str) -> list[Leg]:
    return [
        Leg(payer, Side.DEBIT, Decimal(amounts[0])),
        *(Leg(payee, Side.CREDIT, Decimal(a)) for a in amounts[1:]),
    ]


@pytest.fixture
def held(tmp_path: Path) -> Engine:
    """The fixed ledger with three holds: alice's (oldest), carol's, and one of unequal legs."""
    path = make_ledger(tmp_path / "holds.sqlite")

    async def place() -> None:
        engine = new_engine(path)
        await engine.connect()
        book = engine.holds()
        await book.place(build_entry_set(fixed_id(501), _legs(ALICE, OPS_GBP, "40.00", "40.00")),
                         expires_in=timedelta(minutes=15))  # fmt: skip
        await book.place(build_entry_set(fixed_id(502), _legs(CAROL, OPS_GBP, "12.50", "12.50")),
                         expires_in=timedelta(days=2, hours=3))  # fmt: skip
        unequal = [*_legs(ALICE, OPS_GBP, "9.00", "8.00"), Leg(FEES_GBP, Side.CREDIT, Decimal("1.00"))]
        await book.place(build_entry_set(fixed_id(503), unequal), expires_in=timedelta(hours=5))
        await engine.close()

    asyncio.run(place())
    return new_engine(path)
