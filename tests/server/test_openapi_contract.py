"""Schemathesis against a real ``ledger-tui serve`` on the embedded store: the document is exact.

Every check runs (tests/server/schemathesis.toml names the few exclusions and why): no server
error, only documented statuses, content types, headers and bodies, documented-invalid requests
refused, undocumented methods answered 405 with a matching Allow. Deterministic generation (no
example database), so a run is the same every time; ``make test-api`` raises the examples.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support.origin_configs import write_origin_configs
from .test_serve_process import wait_healthy

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Examples per operation and phase (make test's short run; make test-api sets more).
EXAMPLES = int(os.environ.get("LEDGER_API_EXAMPLES", "5"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def admin_key(tmp_path: Path) -> str:
    """An admin key of the ledger the server serves (so every call is authenticated, and
    Schemathesis checks that a call without it is refused)."""
    command = [sys.executable, "-m", "ledger_tui", "--store", f"sqlite:{tmp_path / 'ledger.sqlite'}",
               "keys", "create", "--name", "schemathesis", "--scope", "admin"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


@pytest.fixture
def server_url(tmp_path: Path, admin_key: str) -> Iterator[str]:
    """A server on a fresh embedded ledger with the origin's named balances and an admin key."""
    port, log = _free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "ledger_tui", "--store", f"sqlite:{tmp_path / 'ledger.sqlite'}",
               "--balances", str(write_origin_configs(tmp_path)), "serve", "--port", str(port),
               "--apply-schema"]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_healthy(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert "Traceback" not in log.read_text()


def test_the_server_keeps_every_promise_of_its_openapi_document(
    server_url: str, admin_key: str, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
               f"{server_url}/openapi.json", "--header", f"Authorization: Bearer {admin_key}", "--max-examples", str(EXAMPLES), "--generation-deterministic",
               "--workers", "1", "--no-color", "--report-dir", str(tmp_path / "report")]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert " passed" in done.stdout and "failures" not in done.stdout
