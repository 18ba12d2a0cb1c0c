"""The 3-node ring the tests of this folder share: the hot-spread test on it first, then the
fault test, which kills, pauses and restarts its nodes and leaves them all up again.

Why shared: starting three nodes costs the 2-core machine more CPU than what the hot-spread test
does on them, and each test works in a keyspace of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ..support.ring import FAULT_RING_ADDRESS, Ring, running_ring

#: Set by `make test-faults`, whose long run records latency figures: its nodes keep the full JIT.
FAULT_REPORT = os.environ.get("LEDGER_FAULT_REPORT")


@pytest.fixture(scope="package")
def three_node_ring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ring]:
    """A ring of 3 nodes on 127.0.0.11..13, stopped after the last test of this folder."""
    run_dir = tmp_path_factory.mktemp("three-node-ring")
    with running_ring(run_dir, FAULT_RING_ADDRESS, 3, quick_jit=FAULT_REPORT is None) as ring:
        yield ring
