"""Credentials and TLS settings: where they come from, what is refused, and that secrets never show."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger_tui.cli import build_parser, main
from ledger_tui.domain.errors import ValidationError
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.store.credentials import Credentials, resolve_credentials
from ledger_tui.store.url import CassandraUrl, parse_store_url

SECRET = "s3cret-Pa55"


def write_credentials(path: Path, mode: int = 0o600, body: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        body if body is not None else f'[cassandra]\nusername = "ledger"\npassword = "{SECRET}"\n'
    )
    os.chmod(path, mode)
    return path


def cassandra(text: str) -> CassandraUrl:
    url = parse_store_url(text)
    assert isinstance(url, CassandraUrl)
    return url


def test_tls_is_off_by_default_and_on_with_a_ca_file() -> None:
    plain = cassandra("cassandra://db1,db2/ledger")
    assert (plain.tls, plain.ca, plain.check_hostname) == (False, None, True)
    secured = cassandra("cassandra://db1/ledger?ca=/etc/ca.pem&cert=/c.pem&key=/k.pem")
    assert (secured.tls, secured.ca, secured.cert, secured.key) == (
        True,
        Path("/etc/ca.pem"),
        Path("/c.pem"),
        Path("/k.pem"),
    )
    assert secured.check_hostname is True
    assert cassandra("cassandra://db1/ledger?tls=true&check_hostname=false").check_hostname is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("tls=maybe", "store.tls"),
        ("tls=false&ca=/ca.pem", "store.tls"),
        ("key=/k.pem", "store.key"),
        ("tls=true&check_hostname=perhaps", "store.check_hostname"),
    ],
)
def test_bad_tls_options_name_the_field(query: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_store_url(f"cassandra://db1/ledger?{query}")
    assert caught.value.problems[0].field == field


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_store_url(f"cassandra://ledger:{SECRET}@db1/ledger")
    assert SECRET not in str(caught.value) and "LEDGER_CASSANDRA_PASSWORD" in str(caught.value)


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_CASSANDRA_USERNAME", "ledger")
    monkeypatch.setenv("LEDGER_CASSANDRA_PASSWORD", SECRET)
    found = resolve_credentials()
    assert found == Credentials("ledger", SECRET, "environment")
    assert SECRET not in repr(found)


def test_a_username_without_a_password_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_CASSANDRA_USERNAME", "ledger")
    with pytest.raises(ValidationError, match="LEDGER_CASSANDRA_PASSWORD"):
        resolve_credentials()


def test_no_credentials_configured_is_none() -> None:
    assert resolve_credentials() is None


def test_the_default_file_in_the_config_dir_is_used(tmp_path: Path) -> None:
    write_credentials(tmp_path / "xdg-config" / "ledger-tui" / "credentials.toml")
    found = resolve_credentials()
    assert found is not None and (found.username, found.password) == ("ledger", SECRET)


def test_the_file_named_by_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEDGER_CREDENTIALS", str(write_credentials(tmp_path / "creds.toml")))
    found = resolve_credentials()
    assert found is not None and found.source == str(tmp_path / "creds.toml")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_credentials(tmp_path / "creds.toml", mode)
    with pytest.raises(ValidationError, match="chmod 600") as caught:
        resolve_credentials(path)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('username = "x"\n', r"needs a \[cassandra\] table"),
        ('[cassandra]\npassword = "p"\n', "username"),
        ('[cassandra]\nusername = "x"\npassword = 7\n', "password"),
        (f'[cassandra]\nusername = "x"\npassword = "{SECRET}\n', "not valid TOML"),
    ],
)
def test_a_malformed_file_is_refused_without_echoing_it(tmp_path: Path, body: str, reason: str) -> None:
    path = write_credentials(tmp_path / "creds.toml", body=body)
    with pytest.raises(ValidationError, match=reason) as caught:
        resolve_credentials(path)
    assert SECRET not in str(caught.value)


def test_a_missing_file_named_on_the_command_line_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        resolve_credentials(tmp_path / "nope.toml")


def test_the_store_shown_in_the_header_never_holds_the_password(tmp_path: Path) -> None:
    path = write_credentials(tmp_path / "creds.toml")
    engine = build_engine(LedgerOptions(store="cassandra://db1/ledger?ca=/etc/ca.pem", credentials_file=path))
    shown = f"{engine.info} {engine.info.target} {engine.info.details}"
    assert SECRET not in shown and "ledger" in engine.info.target and engine.info.details["tls"] == "on"


def test_help_names_the_sources_and_shows_no_secret_in_a_url() -> None:
    text = build_parser().format_help()
    assert "LEDGER_CASSANDRA_PASSWORD" in text and "--credentials" in text and "--ask-password" in text
    assert "@" not in text


def test_a_bad_credentials_file_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_credentials(tmp_path / "creds.toml", 0o644)
    code = main(["--store", "cassandra://127.0.0.9/ledger", "--credentials", str(path), "accounts"])
    err = capsys.readouterr().err
    assert code == 1 and "chmod 600" in err and "Traceback" not in err and SECRET not in err


def test_ask_password_needs_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code = main(["--store", "cassandra://127.0.0.9/ledger", "--ask-password", "accounts"])
    assert code == 2 and "needs a terminal" in capsys.readouterr().err
