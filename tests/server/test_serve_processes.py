"""``serve --processes N``: N servers on one port, watched: a dead one is replaced, SIGTERM stops all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.ledger import LedgerOptions, open_ledger
from ledger_tui.server.processes import STEADY_SECONDS

from ..support.stores import JANITOR, SAMPLE_JSON
from .test_serve_process import _free_port, wait_healthy

CASSANDRA = [pytest.param("cassandra", marks=pytest.mark.cassandra)]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _post(port: int) -> int:
    body = json.loads(SAMPLE_JSON)
    body["transaction_id"] = str(uuid.uuid4())
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/transactions", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as answer:
        return int(answer.status)


@pytest.mark.parametrize("store_kind", CASSANDRA)
def test_processes_share_the_port_a_dead_one_is_replaced_and_sigterm_stops_all(
    ledger_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "ledger_tui", "--store", ledger_url, "serve", "--port", str(port),
               "--apply-schema", "--processes", "2"]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_healthy(process, port, log)
        started = time.monotonic()  # the servers were started before they answered
        servers = _children(process.pid)
        assert len(servers) == 2
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(lambda _: _post(port), range(200))) == {201}
        time.sleep(max(0.0, STEADY_SECONDS + 1 - (time.monotonic() - started)))
        killed = min(servers)
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (now := _children(process.pid)) == servers or len(now) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert killed not in now and len(now) == 2
        wait_healthy(process, port, log)
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(lambda _: _post(port), range(100))) == {201}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert not _children(process.pid)
        text = log.read_text()
        assert "starting another" in text and text.count("store closed") >= 2 and "Traceback" not in text

        async def verify() -> None:
            async with open_ledger(LedgerOptions(store=ledger_url)) as engine:
                report = await engine.verify()
                assert report.ok and report.transactions == 300

        import asyncio

        asyncio.run(verify())
    finally:
        if process.poll() is None:
            process.kill()
        JANITOR.drop(ledger_url)


def test_an_unreachable_cluster_stops_every_process_with_exit_3(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    command = [sys.executable, "-m", "ledger_tui", "--store", f"cassandra://127.0.0.1:{port}/nowhere",
               "serve", "--port", str(_free_port()), "--processes", "2"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 3, err
    assert "store unavailable" in err and "Traceback" not in err


def test_the_embedded_store_is_served_from_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--store", f"sqlite:{tmp_path / 'l.sqlite'}", "serve", "--processes", "2"]) == 2
    assert main(["--store", f"sqlite:{tmp_path / 'l.sqlite'}", "serve", "--processes", "0"]) == 2
    err = capsys.readouterr().err
    assert "one writer" in err and "--processes must be between 1 and 64" in err
