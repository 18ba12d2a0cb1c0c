"""Compose with hostile input: field errors on the leg, nothing written, bad files are notices."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.widgets import Static

from ledger_tui.app.compose.draft import check_leg, effective_time
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.domain.money import DEFAULT_CURRENCIES
from ledger_tui.engine import Engine

from ..support.console import SIZE, TOP_UP, make_app, post_draft, settle


@pytest.mark.parametrize(
    ("account_id", "reason"),
    [
        ("ops\u202e", "format characters such as U+202E"),  # right-to-left override
        ("e\u0301", "NFC"),  # é decomposed: would be a lookalike of the composed account
        ("o\u00a0ps", "space separator characters such as U+00A0"),
        ("ops\u200b", "format characters such as U+200B"),  # zero-width space
    ],
)
async def test_lookalike_address_part_is_a_field_error_and_nothing_is_posted(
    engine: Engine, account_id: str, reason: str
) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        hostile = [dataclasses.replace(TOP_UP[0], account_id=account_id), TOP_UP[1]]
        compose = await post_draft(pilot, hostile)
        errors = str(compose.query(".leg-errors").first(Static).render())
        assert "account_id: " in errors and reason in errors  # the leg's own line names the field
        assert reason in check_leg(hostile[0], DEFAULT_CURRENCIES).errors["account_id"]
        assert "recorded" not in str(compose.query_one("#receipt", Static).render())
    report = await engine.verify()
    assert (report.transactions, report.entries) == (0, 0)


def test_console_effective_time_takes_ascii_digits_only() -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        effective_time("١٧٢٧٣٤٧٢٠٠٠٠٠")  # Arabic-Indic digits: never epoch milliseconds
    with pytest.raises(ValueError, match="between 1970"):
        effective_time("9" * 40)  # bounded before any number is computed
    assert effective_time("1727347200000").year == 2024


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
