"""``ledger-tui serve`` refuses bad flags and bad config in one line, before listening."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_tui.cli import main


def test_bad_port_and_timeout_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    assert main(["--store", store, "serve", "--port", "70000"]) == 2
    assert main(["--store", store, "serve", "--request-timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert "--port must be between 1 and 65535" in err and "--request-timeout" in err


def test_a_missing_balances_file_stops_the_server_before_it_listens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--store", f"sqlite:{tmp_path / 'l.sqlite'}", "--balances", str(tmp_path / "b.yml"), "serve"]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "b.yml does not exist" in err and "Traceback" not in err


def test_an_unreachable_store_is_exit_3_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")  # a file where the store's directory should be
    code = main(["--store", f"sqlite:{tmp_path / 'a-file' / 'l.sqlite'}", "serve", "--port", "1"])
    err = capsys.readouterr().err
    assert (code, "Traceback" in err) == (3, False), err
