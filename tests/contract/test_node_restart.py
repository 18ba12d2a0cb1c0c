"""A real node stopped and restarted under a connected store: errors while down, retry after.

Runs its own second node (other ports, own run dir) so the shared test node is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra import CassandraStore
from ledger_tui.store.url import CassandraUrl, parse_store_url

from ..support.entry_sets import transfer
from ..support.ring import OWN_NODES
from ..support.stores import require_cassandra

NODE = Path(__file__).resolve().parents[2] / "tools" / "cassandra" / "node.py"
WHEN = to_epoch_ms(datetime(2024, 9, 3, 12, tzinfo=UTC))


@pytest.mark.cassandra
@OWN_NODES
async def test_retry_works_after_the_node_comes_back(tmp_path: Path) -> None:
    require_cassandra()  # the jars are assembled by `make cassandra-up`
    env = {
        **os.environ,
        "LEDGER_CASSANDRA_RUN_DIR": str(tmp_path / "node"),
        "LEDGER_CASSANDRA_PORT": "9242",
        "LEDGER_CASSANDRA_STORAGE_PORT": "7200",
    }

    def node(*args: str) -> None:
        subprocess.run([sys.executable, str(NODE), *args], env=env, check=True, timeout=240)

    node("up", "--quick-jit")
    url = parse_store_url("cassandra://127.0.0.1:9242/restart_test?timeout=3")
    assert isinstance(url, CassandraUrl)
    store = CassandraStore(url)
    try:
        await store.connect()
        await store.apply_schema()
        engine = Engine(store)
        await engine.post_json(transfer(1, WHEN))

        node("down")
        with pytest.raises(StoreUnavailable):
            await engine.post_json(transfer(2, WHEN))

        node("up", "--keep-data", "--quick-jit")
        await store.connect()  # what the console's ctrl+r does after a failure
        await engine.post_json(transfer(3, WHEN))
        accounts = await engine.accounts()
        rows = (await engine.entries(accounts[0])).items
        assert sorted(str(e.amount) for e in rows) == ["1.00", "3.00"]
    finally:
        await store.close()
        node("down")
