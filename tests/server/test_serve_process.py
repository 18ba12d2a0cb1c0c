"""A real ``ledger-tui serve`` process: the origin README's curl commands, and a graceful stop."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.origin_configs import write_origin_configs
from ..support.stores import JANITOR, SAMPLE_JSON

# The origin README's commands, verbatim but for the port.
README_POST = """curl -X POST http://localhost:8080/transactions \\
  -H "Content-Type: application/json" \\
  -d @transaction.json"""
README_POST_SINGULAR = """curl -X POST http://localhost:8080/transaction \\
  -H "Content-Type: application/json" \\
  -d @transaction.json"""
README_BALANCE = (
    'curl "http://localhost:8080/balance?name=customer-facing-balance'
    '&start=2024-01-01T00:00:00Z&end=2025-12-31T23:59:59Z"'
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until the server on ``port`` answers /health (it must not exit first; 90 s at most)."""
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "server did not come up: " + log.read_text()
        time.sleep(0.2)


class Served:
    """A running server process and how to reach it."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, workdir: Path, url: str, log: Path
    ) -> None:
        self.process, self.port, self.workdir, self.store_url, self.log = process, port, workdir, url, log

    def curl(self, command: str) -> str:
        """Run a README command (port swapped) in the directory holding transaction.json."""
        script = command.replace("8080", str(self.port))
        done = subprocess.run(["bash", "-c", script], cwd=self.workdir, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def served(ledger_url: str, tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    balances = write_origin_configs(tmp_path)
    (tmp_path / "transaction.json").write_text(SAMPLE_JSON)
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "ledger_tui", "--store", ledger_url, "--balances", str(balances),
               "serve", "--port", str(port), "--apply-schema"]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT)
    server = Served(process, port, tmp_path, ledger_url, log)
    wait_healthy(process, port, log)
    yield server
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    if ledger_url.startswith("cassandra"):
        JANITOR.drop(ledger_url)


def test_the_origin_readme_commands_work_unchanged(served: Served) -> None:
    receipt = json.loads(served.curl(README_POST))
    assert receipt["status"] == "recorded" and len(receipt["entries"]) == 6
    balance = json.loads(served.curl(README_BALANCE), parse_float=Decimal, parse_int=Decimal)
    assert balance == {"amount": Decimal(-120), "balance_name": "customer-facing-balance", "currency": "GBP",
                       "end": "2025-12-31T23:59:59Z", "start": "2024-01-01T00:00:00Z"}  # fmt: skip
    again = json.loads(served.curl(README_POST_SINGULAR))  # no id in the file: a second, new set
    assert again["status"] == "recorded" and again["transaction_id"] != receipt["transaction_id"]
    assert json.loads(served.curl(README_BALANCE))["amount"] == -240
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0
    log = served.log.read_text()
    assert '"POST /transactions" 201' in log and "store closed" in log
    assert "Traceback" not in log


@pytest.mark.parametrize("store_kind", ["sqlite"])  # the drain is the server's; one store shows it
def test_sigterm_lets_a_bulk_post_in_flight_finish(served: Served) -> None:
    sets = 3000
    body = "\n".join(transfer(1, 1727347200000 + n) for n in range(sets)).encode()
    request = urllib.request.Request(
        served.url("/transactions/bulk"), data=body, headers={"Content-Type": "application/x-ndjson"}
    )
    outcome: dict[str, object] = {}

    def send() -> None:
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                outcome["status"], outcome["body"] = answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            outcome["status"] = error.code

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.8)  # the body is read and posting has begun
    served.process.send_signal(signal.SIGTERM)
    sender.join(timeout=120)
    assert served.process.wait(timeout=60) == 0
    assert outcome["status"] == 200, outcome
    body_json = outcome["body"]
    assert isinstance(body_json, dict) and body_json["recorded"] == sets

    async def check() -> None:
        async with open_ledger(LedgerOptions(store=served.store_url)) as engine:
            report = await engine.verify()
            assert report.ok and report.transactions == sets

    import asyncio

    asyncio.run(check())


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_the_server_records_expired_holds_in_the_background(served: Served) -> None:
    held = json.loads(SAMPLE_JSON)
    held["transaction_id"] = str(uuid.uuid4())
    held["pending"] = {"expires_in": "1s"}
    (served.workdir / "held.json").write_text(json.dumps(held))
    placed = json.loads(served.curl(f"curl -s -X POST -H 'Content-Type: application/json' --data @held.json "
                                    f"{served.url('/transactions')}"))  # fmt: skip
    assert placed["state"] == "pending"
    deadline = time.monotonic() + 30
    async with open_ledger(LedgerOptions(store=served.store_url)) as engine:
        while (await engine.holds().get(uuid.UUID(held["transaction_id"]))).outcome is None:
            assert time.monotonic() < deadline, "the server did not sweep the expired hold"
            await asyncio.sleep(0.5)
        hold = await engine.holds().get(uuid.UUID(held["transaction_id"]))
    assert hold.outcome is HoldOutcome.EXPIRED and hold.outcome_at == hold.expires_at
