"""A real ``serve`` with TLS and keys made by ``keys create``: HTTPS only, keys checked, revoked
keys refused, bad TLS flags a usage error; and the ``keys`` commands as a script uses them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .test_serve_process import _free_port


def _cli(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ledger_tui", "--store", store, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make a test certificate")
        pytest.skip("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _get(url: str, context: ssl.SSLContext | None, key: str | None = None) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10, context=context
        ) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_https_with_keys_made_by_the_cli(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    cert, tls_key = _certificate(tmp_path)
    made = _cli(store, "keys", "create", "--name", "reader", "--scope", "read", "--rate-limit", "100")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n" and key.startswith("ltk_") and "shown only now" in made.stderr
    port, log = _free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "ledger_tui", "--store", store, "serve", "--port", str(port),
               "--tls-cert", str(cert), "--tls-key", str(tls_key)]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    trusted = ssl.create_default_context(cafile=str(cert))
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{base}/health", trusted)[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert _get(f"{base}/accounts", trusted)[0] == 401
        assert _get(f"{base}/accounts", trusted, key) == (200, {"accounts": [], "next_cursor": None})
        with pytest.raises(OSError):  # plain HTTP on the TLS port gets no answer
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10)
        with pytest.raises(OSError):  # nor does a client that does not trust the certificate
            urllib.request.urlopen(f"{base}/health", timeout=10, context=ssl.create_default_context())
        listed = _cli(store, "keys", "list", "--json")
        (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
        assert row["name"] == "reader" and row["scopes"] == ["read"] and row["revoked_at"] is None
        assert _cli(store, "keys", "revoke", "reader").returncode == 0
        deadline = time.monotonic() + 10
        while _get(f"{base}/accounts", trusted, key)[0] != 401:
            assert time.monotonic() < deadline, "a revoked key still opens the API"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    text = log.read_text()
    assert "every call but /health needs an API key (1 active)" in text and "key=reader" in text
    assert key not in text and key.split("_")[2] not in text and "Traceback" not in text
    assert key not in _cli(store, "keys", "list").stdout


def test_tls_flags_that_cannot_work_are_one_line(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for flags, expected in (
        (["--tls-cert", str(garbage)], "--tls-cert and --tls-key go together"),
        (["--tls-cert", str(garbage), "--tls-key", str(garbage)], "cannot be used"),
        (["--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(garbage)], "cannot read"),
        (["--rate-limit", "0"], "--rate-limit must be between 1"),
    ):
        done = _cli(store, "serve", "--port", str(_free_port()), *flags)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("ledger-tui: error: "), done.stderr


def test_keys_commands_refuse_bad_input_by_field(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert _cli(store, "keys", "create", "--name", "a", "--scope", "post").returncode == 0
    for args, expected in (
        (["create", "--name", "a", "--scope", "read"], "name: a key named a exists"),
        (["create", "--name", "-x", "--scope", "read"], "name"),
        (["create", "--name", "b", "--scope", "root"], "invalid choice"),
        (["revoke", "nobody"], "no API key has the id or name nobody"),
    ):
        done = _cli(store, "keys", *args)
        assert done.returncode != 0 and expected in done.stderr and "Traceback" not in done.stderr, (
            done.stderr
        )
    assert [row.split()[1] for row in _cli(store, "keys", "list").stdout.splitlines()[1:]] == ["a"]
