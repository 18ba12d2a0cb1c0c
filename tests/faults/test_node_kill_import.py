"""kill -9 of the NODE (not the client) in the middle of `ledger-tui import`, then a rerun.

A one-node ring of our own (never the shared node) at replication 1: the importer loses its
only node mid-run and must stop with a clear "not confirmed"/unavailable line (exit 3, no
traceback). After the node is restarted on the same data, a rerun of the same file (repair
runs first) must leave the exact result: every set of the file stored once with all its rows,
`verify` clean, and a second rerun finds every set already there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..cli.test_import import sets, write_jsonl
from ..support.ring import OWN_NODES, running_ring
from ..support.stores import wait_until_writing

pytestmark = [pytest.mark.cassandra, pytest.mark.faults, OWN_NODES]

REPO = Path(__file__).resolve().parents[2]
SETS = 12000  # a few seconds of import: the node is killed once the first sets are claimed
#: Its own address: the fault ring uses 127.0.0.11..13, the secured nodes 127.0.0.21.
NODE_KILL_ADDRESS = "127.0.0.31"


def run(command: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=600)


def test_kill_9_of_the_node_mid_import_then_rerun_is_exact(tmp_path: Path) -> None:
    every = sets(SETS, seed=31)
    count, entries = len(every), sum(len(s.legs) for s in every)
    source = write_jsonl(tmp_path / "big.jsonl", every)
    with running_ring(tmp_path / "ring", NODE_KILL_ADDRESS, 1) as ring:
        store = f"cassandra://{ring.hosts}/imported?replication=1&consistency=ONE&retry=5"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "ledger_tui", "--store", store]
        applied = run(command, "schema", "apply", env=env)
        assert applied.returncode == 0, applied.stderr

        importer = subprocess.Popen(
            [*command, "import", str(source), "--chunk", "200"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until_writing(store, importer)
        assert importer.poll() is None, "the import finished before the node died: use a bigger file"
        ring.tool("kill", "1")
        out, err = importer.communicate(timeout=120)
        assert importer.returncode == 3, (importer.returncode, out[-2000:], err[-2000:])
        assert "Traceback" not in out + err, err[-3000:]

        ring.tool("start", "1")
        partial = run(command, "verify", "--no-repair", env=env)
        assert f"transactions: {count}" not in partial.stdout, partial.stdout  # it really was cut short

        rerun = run(command, "import", str(source), env=env)
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
        new, there = map(int, re.search(r"new (\d+), already there (\d+)", rerun.stdout).groups())  # type: ignore[union-attr]
        assert new + there == count and there > 0 and new > 0, rerun.stdout
        verify = run(command, "verify", env=env)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert f"transactions: {count}  entries: {entries}" in verify.stdout, verify.stdout
        again = run(command, "import", str(source), env=env)  # nothing left to write
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"(new 0, already there {count}," in again.stdout, again.stdout
