"""A real node with PasswordAuthenticator and client TLS (client certificates required).

Right credentials and CA work end to end; wrong or missing credentials are "access denied"
(exit 5), an untrusted CA or a missing client certificate a TLS error (exit 6), and the
password shows nowhere: not in output, errors, the header's store line or help.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from textual.pilot import Pilot

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.widgets.dialogs import LoginPrompt
from ledger_tui.cli import main
from ledger_tui.domain.errors import AccessDenied
from ledger_tui.ledger import Credentials, LedgerOptions, build_engine, open_ledger

from ..support.entry_sets import transfer
from ..support.ring import OWN_NODES, SECURED_ADDRESS, Ring, running_ring

pytestmark = [pytest.mark.cassandra, OWN_NODES]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ring]:
    """The node, with a login role ``ledger`` whose random password is in an owner-only file."""
    run_dir = tmp_path_factory.mktemp("secured-node")
    with running_ring(run_dir, SECURED_ADDRESS, 1, "--auth", "--tls-client-auth") as ring:
        password = secrets.token_hex(16)  # hex: safe inside a CQL string literal (roles take no bind markers)
        tls = ring.run_dir / "tls"
        context = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        context.load_cert_chain(str(tls / "client.pem"), str(tls / "client.key"))
        cluster = Cluster(
            [ring.address(1)],
            protocol_version=5,
            ssl_context=context,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"),
        )
        try:
            session = cluster.connect()
            session.execute(
                f"CREATE ROLE ledger WITH PASSWORD = '{password}' AND LOGIN = true AND SUPERUSER = true"
            )
        finally:
            cluster.shutdown()
        credentials = ring.run_dir / "ledger-credentials.toml"
        credentials.write_text(f'[cassandra]\nusername = "ledger"\npassword = "{password}"\n')
        credentials.chmod(0o600)
        yield ring


@pytest.fixture
def password(secured: Ring) -> str:
    text = (secured.run_dir / "ledger-credentials.toml").read_text()
    return text.split('password = "', 1)[1].split('"', 1)[0]


def url(ring: Ring, keyspace: str, *, client_cert: bool = True, ca: Path | None = None) -> str:
    tls = ring.run_dir / "tls"
    query = f"ca={ca or tls / 'ca.pem'}"
    if client_cert:
        query += f"&cert={tls / 'client.pem'}&key={tls / 'client.key'}"
    return f"cassandra://{ring.hosts}/{keyspace}?{query}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_right_credentials_and_ca_post_and_read_back(
    secured: Ring, tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    creds = str(secured.run_dir / "ledger-credentials.toml")
    store = url(secured, "secured_ok")
    assert run(capsys, "--store", store, "--credentials", creds, "schema", "apply")[0] == 0
    document = tmp_path / "set.json"
    document.write_text(transfer(1, 1_725_364_800_000))
    code, out = run(capsys, "--store", store, "--credentials", creds, "post", str(document))
    assert code == 0, out
    code, out = run(capsys, "--store", store, "--credentials", creds, "accounts", "--json")
    assert code == 0 and len(json.loads(out)) == 2
    assert password not in out


def test_wrong_password_is_access_denied(
    secured: Ring, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_CASSANDRA_USERNAME", "cassandra")
    monkeypatch.setenv("LEDGER_CASSANDRA_PASSWORD", "not-the-password")
    code, out = run(capsys, "--store", url(secured, "secured_bad"), "accounts")
    assert code == 5 and "access denied" in out and "not-the-password" not in out
    assert "Traceback" not in out


def test_no_credentials_is_access_denied_and_says_how_to_give_them(
    secured: Ring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--store", url(secured, "secured_none"), "accounts")
    assert code == 5 and "access denied" in out and "LEDGER_CASSANDRA_USERNAME" in out


def test_an_untrusted_ca_is_a_tls_error(
    secured: Ring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k.pem"),
         "-out", str(other_ca), "-days", "1", "-subj", "/CN=someone else"],
        check=True, capture_output=True,
    )  # fmt: skip
    creds = str(secured.run_dir / "ledger-credentials.toml")
    code, out = run(capsys, "--store", url(secured, "x", ca=other_ca), "--credentials", creds, "accounts")
    assert code == 6 and "TLS error" in out and "certificate verify failed" in out and str(other_ca) in out


def test_a_missing_client_certificate_is_a_tls_error(
    secured: Ring, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = str(secured.run_dir / "ledger-credentials.toml")
    store = url(secured, "x", client_cert=False)
    code, out = run(capsys, "--store", store, "--credentials", creds, "accounts")
    assert code == 6 and "client certificate" in out


def test_no_tls_against_a_tls_node_says_tls_may_be_needed(
    secured: Ring, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = str(secured.run_dir / "ledger-credentials.toml")
    code, out = run(
        capsys, "--store", f"cassandra://{secured.hosts}/x?timeout=3", "--credentials", creds, "accounts"
    )
    assert code == 3 and "tls=true" in out


async def test_the_console_login_retries_with_typed_credentials(secured: Ring, password: str) -> None:
    """What the console's prompt does: a refused connect, then the typed credentials work."""
    engine = build_engine(LedgerOptions(store=url(secured, "secured_prompt")))
    with pytest.raises(AccessDenied):
        await engine.connect()
    engine.use_credentials("ledger", password)
    try:
        await engine.connect()
        assert engine.cluster_nodes() == (1, 1)
        assert password not in str(engine.info)
    finally:
        await engine.close()


def test_credentials_given_to_the_builder_win(secured: Ring, password: str) -> None:
    options = LedgerOptions(store=url(secured, "x"), credentials=Credentials("ledger", password, "test"))
    assert password not in repr(options)


async def test_console_asks_for_a_login_then_shows_the_cluster(secured: Ring, password: str) -> None:
    """Refused at start: a login prompt; typed credentials connect and the header shows the nodes."""
    engine = build_engine(LedgerOptions(store=url(secured, "secured_console")))
    app = LedgerApp(engine, cursor_blink=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, LoginPrompt))
            await pilot.pause(0.2)  # the username field takes the focus
            await pilot.press(*"ledger", "enter", *password, "enter")
            await wait_for(pilot, lambda: app.connection == "connected")
            await wait_for(pilot, lambda: "nodes=1/1 up" in app.sub_title)
            assert password not in app.sub_title and "tls=on" in app.sub_title
    finally:  # as `run_console` does: a driver left open reconnects to a stopped node for ever
        await engine.close()


async def test_console_notices_a_node_going_down_and_recovers_with_ctrl_r(
    secured: Ring, password: str
) -> None:
    """Runs last in this module: it kills the node and starts it again."""
    options = LedgerOptions(store=url(secured, "secured_down"), credentials=Credentials("ledger", password))
    async with open_ledger(options) as engine:
        await engine.apply_schema()
    engine = build_engine(options)
    app = LedgerApp(engine, cursor_blink=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.connection == "connected")
            # The cluster watch must have seen the node up first: a kill before its first look
            # shows 0/1 in the header with no "down" to tell (CI once killed that early).
            await wait_for(pilot, lambda: app._cluster_seen == (1, 1))
            await asyncio.to_thread(secured.tool, "kill", "1")
            await wait_for(pilot, lambda: "nodes=0/1 up" in app.sub_title and app.connection == "unavailable")
            assert any(n.title == "Cluster node down" for n in app._notifications)
            await asyncio.to_thread(secured.tool, "start", "1")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.connection == "connected", budget=60)
            await wait_for(pilot, lambda: "nodes=1/1 up" in app.sub_title)
    finally:
        await engine.close()


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], budget: float = 30) -> None:
    deadline = time.monotonic() + budget
    while not condition():
        app = pilot.app
        assert isinstance(app, LedgerApp)
        notices = [n.message for n in app._notifications]
        assert time.monotonic() < deadline, f"not met: {app.sub_title!r} {app.connection!r} {notices}"
        await pilot.pause(0.1)
