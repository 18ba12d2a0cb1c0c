"""The config file and the console's remembered state: flags win over the
environment, which wins over the state and the config; a bad config names the key and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger_tui.app import main as console_main
from ledger_tui.cli import main
from ledger_tui.cli.common import EXIT_OK, EXIT_USAGE
from ledger_tui.settings import ConsoleState, config_path, load_settings, read_state, state_path, write_state


def _config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_the_config_store_is_the_default_and_a_flag_wins(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    configured, flagged = tmp_path / "configured.sqlite", tmp_path / "flagged.sqlite"
    _config(f'store = "sqlite:{configured}"\npage_size = 50\n')
    assert _run(capsys, "accounts")[0] == EXIT_OK
    assert configured.exists()
    assert _run(capsys, "--store", f"sqlite:{flagged}", "accounts")[0] == EXIT_OK
    assert flagged.exists()
    assert load_settings().page_size == 50


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('colour = "red"\n', "colour", "unknown key"),
        ("page_size = 5\n", "page_size", "from 10 to 1000"),
        ('page_size = "100"\n', "page_size", "whole number"),
        ('theme = "no-such-theme"\n', "theme", "unknown theme"),
        ('store = "postgres://x"\n', "store", "must start with sqlite: or cassandra://"),
        ('store = "cassandra://u:p@h/ks"\n', "store", "credentials do not belong in the URL"),
        ('password = "hunter2"\n', "password", "credentials do not belong here"),
        ('[cassandra]\nusername = "u"\n', "cassandra", "credentials do not belong here"),
        ("store = \n", "", "not valid TOML"),
    ],
)
def test_a_bad_config_names_the_key_and_the_reason(
    capsys: pytest.CaptureFixture[str], text: str, key: str, reason: str
) -> None:
    path = _config(text)
    code, err = _run(capsys, "accounts")
    assert code == EXIT_USAGE
    assert f"config {path}: {key}" in err and reason in err
    assert "Traceback" not in err and "hunter2" not in err


def test_the_console_restores_the_last_store_screen_and_theme(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[Any, Any]] = []

    def run_console(ledger: Any, options: Any) -> int:
        seen.append((ledger, options))
        return EXIT_OK

    monkeypatch.setattr(console_main, "run_console", run_console)
    _config(f'store = "sqlite:{tmp_path / "configured.sqlite"}"\ntheme = "nord"\npage_size = 20\n')
    assert main([]) == EXIT_OK  # nothing remembered yet: the config's choices
    ledger, options = seen[-1]
    assert ledger.store.endswith("configured.sqlite") and options.theme == "nord"
    assert options.start_screen == "compose" and options.page_size == 20 and options.remember
    write_state(ConsoleState(f"sqlite:{tmp_path / 'last.sqlite'}", "trial", "dracula"))
    assert main([]) == EXIT_OK
    ledger, options = seen[-1]
    assert ledger.store.endswith("last.sqlite") and options.start_screen == "trial"
    assert options.theme == "dracula"
    assert main(["--store", f"sqlite:{tmp_path / 'flag.sqlite'}", "--theme", "monokai"]) == EXIT_OK
    ledger, options = seen[-1]
    assert ledger.store.endswith("flag.sqlite") and options.theme == "monokai"


def test_a_broken_state_file_is_ignored() -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"store": "nonsense://", "screen": "nowhere", "theme": 7}')
    assert read_state() == ConsoleState()
    path.write_text("[1, 2")
    assert read_state() == ConsoleState()


def test_help_shows_the_default_store_every_url_option_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ledger_tui.cli.common import EXIT_CODES
    from ledger_tui.store.url import CASSANDRA_OPTIONS, SQLITE_OPTIONS, default_sqlite_path

    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"sqlite:{default_sqlite_path()}" in text
    assert all(option in text for option in (*SQLITE_OPTIONS, *CASSANDRA_OPTIONS))
    assert all(f"{code} {meaning}" in text for code, meaning in EXIT_CODES)
    assert str(config_path()) in text
