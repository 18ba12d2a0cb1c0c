"""Exit codes and wording for hostile input and failing stores: one clear line, never a traceback."""

from __future__ import annotations

import io
import json
import sqlite3
import stat
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from ledger_tui import cli
from ledger_tui.cli import ledger_commands, main
from ledger_tui.cli.common import (
    EXIT_ACCESS_DENIED,
    EXIT_INTERNAL,
    EXIT_REJECTED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)
from ledger_tui.domain.errors import AccessDenied

from ..support.entry_sets import transfer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; argparse's usage errors exit (SystemExit 2) before a handler runs."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def with_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stream)


@pytest.mark.parametrize(
    ("store", "wording"),
    [
        ("cassandra://no-such-host.invalid/ks", "no contact point host name could be resolved"),
        ("cassandra://[::1]:9/ks", "Connection refused"),
        ("sqlite:/dev/null", "disk I/O error"),
    ],
)
def test_unreachable_or_unresolvable_stores_exit_3(
    capsys: pytest.CaptureFixture[str], store: str, wording: str
) -> None:
    code, _, err = run(capsys, "--store", store, "accounts")
    assert code == EXIT_UNAVAILABLE
    assert err.startswith("ledger-tui: store unavailable: ") and wording in err
    assert err.count("\n") == 1


def test_a_write_lock_held_past_the_busy_timeout_is_store_busy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite"
    url = f"sqlite:{path}?busy_timeout=1"
    assert run(capsys, "--store", url, "schema", "apply")[0] == 0
    document = tmp_path / "set.json"
    document.write_text(transfer("1.00", 1_727_347_200_000))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding the lock
    try:
        code, _, err = run(capsys, "--store", url, "post", str(document))
        assert code == EXIT_UNAVAILABLE
        assert err.startswith("ledger-tui: store busy: ") and "more than 1 s" in err
        assert run(capsys, "--store", url, "accounts")[0] == 0  # readers are not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run(capsys, "--store", url, "post", str(document))[0] == 0  # lock gone: it posts
    assert "transactions: 1 " in run(capsys, "--store", url, "verify")[1]


@pytest.mark.parametrize("busy", ["١", "1_0", "-1", "x", "1.5"])
def test_busy_timeout_takes_ascii_digits_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, busy: str
) -> None:
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}?busy_timeout={busy}", "accounts")
    assert code == EXIT_REJECTED and "store.busy_timeout" in err
    assert not (tmp_path / "l.sqlite").exists()


def test_access_denied_has_its_own_exit_code_and_wording(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(args: Any, out: Any) -> int:
        raise AccessDenied("access denied: Cassandra refused the credentials or the operation: bad password")

    monkeypatch.setattr(ledger_commands, "accounts", refuse)
    code, _, err = run(capsys, "accounts")
    assert code == EXIT_ACCESS_DENIED == 5
    assert (
        err == "ledger-tui: access denied: Cassandra refused the credentials or the operation: bad password\n"
    )


def test_an_unexpected_error_is_logged_to_the_state_dir_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def bug(args: Any, out: Any) -> int:
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(ledger_commands, "accounts", bug)
    code, out, err = run(capsys, "accounts")
    log = tmp_path / "xdg-state" / "ledger-tui" / "errors.log"
    assert code == EXIT_INTERNAL == 70 and out == ""
    assert err == f"ledger-tui: unexpected error (RuntimeError); details in {log} (please report it)\n"
    text = log.read_text()
    assert "Traceback" in text and "a bug nobody foresaw" in text and "command=accounts" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_default_ledger_is_private_and_fully_synchronous(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "accounts")[0] == 0  # creates the default ledger in the user data dir
    path = tmp_path / "xdg-data" / "ledger-tui" / "ledger.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for companion in path.parent.glob("ledger.sqlite-*"):  # -wal / -shm take the file's mode
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600


async def test_the_embedded_store_runs_synchronous_full(tmp_path: Path) -> None:
    from ledger_tui.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "l.sqlite")
    await store.connect()
    try:
        mode = await store._run(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        await store.close()
    assert mode == 2  # FULL


@pytest.mark.parametrize(
    ("data", "wording"),
    [
        ("caf\u00e9".encode("latin-1"), "the document is not UTF-8 text (byte 0xe9 at offset 3)"),
        (b'{"entries": [], "entries": []}', "duplicate key 'entries'"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_documents_on_stdin_are_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    data: bytes,
    wording: str,
) -> None:
    with_stdin(monkeypatch, data)
    code, out, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", "post", "-")
    assert code == EXIT_REJECTED and out == ""
    assert err.startswith("ledger-tui: rejected: ") and wording in err and err.count("\n") == 1


def test_documents_are_bounded_to_16_mib(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", "post", "/dev/zero")
    assert code == EXIT_REJECTED and "the document is larger than 16 MiB" in err
    with pytest.raises(SystemExit):
        main(["post", "--help"])
    assert "16 MiB" in capsys.readouterr().out


def test_errors_are_capped_at_20_with_a_count(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_stdin(monkeypatch, json.dumps({"entries": [{}] * 150}).encode())
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", "post", "-")
    assert code == EXIT_REJECTED
    assert err.count("; entries[") == 19 and err.endswith("; and 430 more problem(s)\n")
    with_stdin(monkeypatch, json.dumps({"entries": [{}] * 100_000}).encode())
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", "post", "-")
    assert code == EXIT_REJECTED and err == "ledger-tui: rejected: entries: has more than 200 legs\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "١١١١١١١١-1111-1111-1111-111111111111"],  # Arabic-Indic digits
        ["show", "{11111111-1111-1111-1111-111111111111}"],
        ["show", "11111111-1111-1111-1111-111111111111\n"],
        ["reverse", "urn:uuid:11111111-1111-1111-1111-111111111111"],
    ],
)
def test_transaction_ids_are_canonical_ascii(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", *argv)
    assert code == EXIT_REJECTED and "is not a UUID (8-4-4-4-12 hexadecimal digits)" in err


@pytest.mark.parametrize(
    ("argv", "wording"),
    [
        (["load-sample", "--transactions", "١٢"], "not a whole number (ASCII digits)"),
        (["load-sample", "--seed", "1_000"], "not a whole number (ASCII digits)"),
        (["layout", "split", "a/b/c/GBP/x", "--subs", "٣"], "not a whole number (ASCII digits)"),
        (["layout", "rows", "١٠٠٠٠"], "not a whole number (ASCII digits)"),
        (["load-sample", "--months", "99999999"], "--months from 1 to 1200"),
        (["seal", "--margin", "1e400"], "not a number of seconds"),
        (["balance", "--address", "a/b/c/GBP/*", "--start", "9" * 5000], "outside the years 1 to 9999"),
    ],
)
def test_numeric_flags_take_ascii_digits_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], wording: str
) -> None:
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", *argv)
    assert code == EXIT_USAGE and wording in err and len(err) < 1000


@pytest.mark.parametrize(
    "store",
    [
        "cassandra://127.0.0.1:٩٠٤٢/ks",
        "cassandra://127.0.0.1/ks?timeout=١٠",
        "cassandra://127.0.0.1/ks?replication=١",
        "cassandra://h\udcff/ks",
        "cassandra://[::1/ks",
    ],
)
def test_store_url_numbers_are_ascii_digits(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, _, err = run(capsys, "--store", store, "accounts")
    assert code == EXIT_REJECTED and err.startswith("ledger-tui: rejected: store")


def test_the_exit_codes_are_documented_in_help_and_readme(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for code in (
        "0 ok",
        "1 rejected",
        "2 usage",
        "3 store unavailable or busy",
        "5 access denied",
        "70 unexpected",
    ):
        assert code in " ".join(text.split()) and code in readme
    assert cli.__doc__ is not None and "5 access denied" in cli.__doc__


def test_a_named_balances_file_is_bounded_and_utf8(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    code, _, err = run(capsys, "--store", store, "--balances", "/dev/zero", "balance", "--name", "x")
    assert code == EXIT_REJECTED and "larger than 16 MiB" in err
    latin = tmp_path / "balances.toml"
    latin.write_bytes(b'[caf\xe9]\naddresses = ["a/b/c/GBP/*"]\n')
    code, _, err = run(capsys, "--store", store, "--balances", str(latin), "balance", "--name", "x")
    assert code == EXIT_REJECTED and "is not UTF-8 text" in err


def test_import_reads_lines_bounded_to_16_mib(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", "import", "/dev/zero")
    assert code == EXIT_REJECTED and "line 1: longer than 16 MiB; the import stops here" in err


@pytest.mark.parametrize(
    "url",
    [
        f"kafka://broker:{'9' * 5000}/sets",
        "kafka://broker:0/sets",
        "kafka://broker:65536/sets",
        "http://b/sets",
    ],
    ids=["port-of-5000-digits", "port-0", "port-65536", "not-kafka"],
)
@pytest.mark.parametrize("command", ["ingest", "publish"])
def test_a_bad_kafka_url_is_refused_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, command: str
) -> None:
    code, _, err = run(capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", command, url)
    assert code in (EXIT_USAGE, EXIT_REJECTED) and "unexpected error" not in err and len(err) < 1000, err


def test_import_check_of_a_file_that_is_not_utf8_names_a_bad_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "latin.jsonl"
    good = transfer("1.00", 1727347200000, transaction_id=uuid.uuid4()).encode()
    source.write_bytes(good + b"\n" + good.replace(b"GBP", b"GB\xff") + b"\n" + good + b"\n")
    code, out, err = run(
        capsys, "--store", f"sqlite:{tmp_path / 'l.sqlite'}", "import", "--check", str(source)
    )
    assert code == EXIT_REJECTED and "not UTF-8" in out and "unexpected error" not in err, (out, err)


def test_import_drops_a_leading_byte_order_mark_as_post_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "bom.jsonl"
    first, second = (transfer("1.00", 1727347200000, transaction_id=uuid.uuid4()) for _ in range(2))
    source.write_bytes(b"\xef\xbb\xbf" + first.encode() + b"\n" + second.encode() + b"\n")
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    code, out, err = run(capsys, "--store", store, "import", str(source))
    assert code == 0 and "Traceback" not in err, (out, err)
    assert "transactions: 2" in run(capsys, "--store", store, "verify")[1]
