"""What ``web`` hands each tab's console (the ledger the console would open, secrets only in the
environment, never on the command line ``ps`` shows), and what it refuses (one line, no traceback)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ledger_tui.cli import build_parser, main
from ledger_tui.cli.web_command import CONSOLE_FLAG, _tab_argv, _tab_environment
from ledger_tui.settings import ConsoleState, write_state

SECRET = "s3cret-pa55"


def test_credentials_reach_the_tab_through_its_environment_only(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.toml"
    credentials.write_text(f'[cassandra]\nusername = "clerk"\npassword = "{SECRET}"\n')
    credentials.chmod(0o600)
    store = "cassandra://10.0.0.5:9042/books"
    args = build_parser().parse_args(
        ["--store", store, "--credentials", str(credentials), "--theme", "nord", "web", "--port", "8100"]
    )
    shown, environment = _tab_environment(args)
    argv = _tab_argv(args)
    assert shown == store and SECRET not in shown
    assert environment == {
        "LEDGER_STORE": store,
        "LEDGER_CASSANDRA_USERNAME": "clerk",
        "LEDGER_CASSANDRA_PASSWORD": SECRET,
    }
    assert argv == [sys.executable, "-m", "ledger_tui", "--theme", "nord", "web", CONSOLE_FLAG]


def test_the_tab_opens_the_ledger_the_console_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remembered = f"sqlite:{tmp_path / 'last.sqlite'}"
    write_state(ConsoleState(store=remembered, screen="chart", theme=None))
    balances = tmp_path / "balances.toml"
    args = build_parser().parse_args(["--balances", str(balances), "web"])
    assert _tab_environment(args) == (
        remembered,
        {"LEDGER_STORE": remembered, "LEDGER_BALANCES": str(balances)},
    )
    monkeypatch.setenv("LEDGER_STORE", f"sqlite:{tmp_path / 'env.sqlite'}")
    assert _tab_environment(build_parser().parse_args(["web"]))[0] == f"sqlite:{tmp_path / 'env.sqlite'}"


def test_web_beyond_loopback_needs_an_admin_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:{tmp_path / 'ledger.sqlite'}"
    assert main(["--store", store, "web", "--host", "0.0.0.0", "--port", "8000"]) == 2
    error = capsys.readouterr().err
    assert "needs an active admin API key" in error and "Traceback" not in error
    assert main(["--store", store, "keys", "create", "--name", "reader", "--scope", "read"]) == 0
    assert main(["--store", store, "web", "--host", "0.0.0.0", "--port", "8000"]) == 2  # read is not enough


def test_web_beyond_loopback_opens_to_admin_keys_only(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'ledger.sqlite'}"
    keys = {}
    for name, scope in (("admin", "admin"), ("poster", "post")):
        made = subprocess.run([sys.executable, "-m", "ledger_tui", "--store", store, "keys", "create",
                               "--name", name, "--scope", scope], capture_output=True, text=True, check=True)  # fmt: skip
        keys[name] = made.stdout.strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "ledger_tui",
        "--store",
        store,
        "web",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def status(key: str | None, path: str = "/") -> int:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers),
                                        timeout=10) as answer:  # fmt: skip
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                first = status(None)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr
                time.sleep(0.2)
        assert first == 401 and status(keys["poster"]) == 401 and status(keys["admin"][:-1] + "x") == 401
        assert status(keys["admin"]) == 200
        login = urllib.parse.urlencode({"key": keys["admin"]}).encode()
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/login", data=login, timeout=10)
            raise AssertionError("the login did not redirect")
        except urllib.error.HTTPError as answer:
            assert answer.code == 303 and "HttpOnly" in answer.headers["Set-Cookie"]
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0 and "Traceback" not in err and "in clear" in err
    assert all(key not in err for key in keys.values())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.mark.parametrize("port", ["0", "70000"])
def test_web_refuses_a_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["web", "--port", port]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["８０", "x", "80.5"])
def test_web_refuses_a_port_that_is_not_a_number(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["web", "--port", port])
    assert exited.value.code == 2 and "Traceback" not in capsys.readouterr().err


def test_web_on_a_port_in_use_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["web", "--port", str(port)]) == 2
    error = capsys.readouterr().err
    assert error == f"ledger-tui: cannot listen on 127.0.0.1:{port}: address already in use\n"
