"""Drafts as files: saved where the operator can find them, and unreadable or hostile files are notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.engine import Engine

from ...support.console import (
    SIZE,
    make_app,
    settle,
)


async def test_save_names_the_full_path(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        seen: list[str] = []
        monkeypatch.setattr(compose, "notify", lambda message, **_: seen.append(str(message)))
        compose._save_to("drafts/mine.json")
        assert seen == [f"Saved the draft to {tmp_path / 'drafts' / 'mine.json'}"]
        assert (tmp_path / "drafts" / "mine.json").exists()


def test_the_default_save_path_is_outside_the_working_directory() -> None:
    from ledger_tui.app.compose.draft_files import default_draft_dir

    assert default_draft_dir().is_absolute() and default_draft_dir().name == "drafts"


async def test_unreadable_draft_file_is_a_notice_not_a_crash(engine: Engine, tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await compose._load_from(str(nested))
        await compose._load_from("~no_such_user_anywhere/x.json")
        compose._save_to("~no_such_user_anywhere/x.json")
        await settle(pilot)
        titles = [n.title for n in app._notifications]
        assert titles.count("Cannot load") == 2 and titles.count("Cannot save") == 1
        assert app.is_running


@pytest.mark.parametrize(
    "content",
    [
        b'{"entries": [{"address": {"account_id": "\\ud800"}, "type": "debit"}]}',  # lone surrogate
        b'{"entries": [], "entries": []}',  # duplicate key
        '{"entries": [{"description": "caf\u00e9"}]}'.encode("latin-1"),  # not UTF-8
        b'{"transaction_id": "\xd9\xa1' + b"1" * 7 + b'-1111-1111-1111-111111111111", "entries": []}',
    ],
    ids=["surrogate", "duplicate-key", "latin-1", "arabic-indic-id"],
)
async def test_hostile_draft_file_is_a_notice(engine: Engine, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "draft.json"
    path.write_bytes(content)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await compose._load_from(str(path))
        await settle(pilot)
        assert [n.title for n in app._notifications] == ["Cannot load"]
        assert app.is_running
