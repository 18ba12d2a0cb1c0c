"""Nodes of our own for tests that need a ring or a secured node (tools/cassandra/ring.py).

They run on loopback addresses other than the shared node's 127.0.0.1, each from a run dir
under the test's tmp dir, and are stopped afterwards. A node that cannot start skips a test
locally but FAILS it under CI=true.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .stores import IN_CI

RING_TOOL = Path(__file__).resolve().parents[2] / "tools" / "cassandra" / "ring.py"
#: Tests that start nodes of their own: one xdist worker runs them one after another (first, so
#: they overlap the rest of the suite instead of running beside each other on two cores).
OWN_NODES = pytest.mark.xdist_group("own_nodes")
#: First addresses of the test rings (a developer's `make cluster-up` uses 127.0.0.2..4).
SECURED_ADDRESS = "127.0.0.21"
FAULT_RING_ADDRESS = "127.0.0.11"


class Ring:
    """A started ring: its run dir and a way to run the tool's subcommands on it."""

    def __init__(self, run_dir: Path, first_address: str, nodes: int) -> None:
        self.run_dir = run_dir
        self.first_address = first_address
        self.nodes = nodes

    def address(self, n: int) -> str:
        head, last = self.first_address.rsplit(".", 1)
        return f"{head}.{int(last) + n - 1}"

    @property
    def hosts(self) -> str:
        return ",".join(self.address(n) for n in range(1, self.nodes + 1))

    def tool(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LEDGER_RING_RUN_DIR": str(self.run_dir)}
        done = subprocess.run(
            [sys.executable, str(RING_TOOL), *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"ring.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done


@contextmanager
def running_ring(
    run_dir: Path, first_address: str, nodes: int, *flags: str, quick_jit: bool = True
) -> Iterator[Ring]:
    """Start a ring (fails under CI, skips locally, when it cannot start); always stop it. Its
    nodes compile with the quick JIT only (half the CPU) unless the test records speed figures."""
    ring = Ring(run_dir, first_address, nodes)
    jit = ["--quick-jit"] if quick_jit else []
    started = ring.tool(
        "up", "--nodes", str(nodes), "--first-address", first_address, *jit, *flags, check=False
    )
    try:
        if started.returncode != 0:
            message = f"could not start a test ring on {first_address}:\n{started.stderr[-2000:]}"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        yield ring
    finally:
        ring.tool("down", "--kill", check=False)  # the ring is thrown away: no clean stop to wait for
