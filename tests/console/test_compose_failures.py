"""Compose when posting fails: no implicit re-posts, conflicts explained, bad files are notices."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Static

from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.domain.blocks import SealPolicy
from ledger_tui.domain.claims import RecordOutcome
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.engine import Engine
from ledger_tui.store.sqlite import SqliteStore

from ..support.console import NOW, SIZE, TOP_UP, make_app, post_draft, settle


class FailFirstPostStore(SqliteStore):
    """A real SQLite store whose first write fails as an unreachable node would."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.record_calls = 0

    async def record(self, transaction: RecordedTransaction, policy: SealPolicy) -> RecordOutcome:
        self.record_calls += 1
        if self.record_calls == 1:
            raise StoreUnavailable("no answer from the node")
        return await super().record(transaction, policy)


@pytest.fixture
async def failing_store(tmp_path: Path) -> AsyncIterator[FailFirstPostStore]:
    """A store whose first post fails as if unreachable; closed after the test."""
    store = FailFirstPostStore(tmp_path / "ledger.sqlite")
    yield store
    await store.close()


def _receipt(screen: ComposeScreen) -> str:
    return str(screen.query_one("#receipt", Static).render())


async def test_returning_to_compose_never_reposts_a_failed_draft(failing_store: FailFirstPostStore) -> None:
    store = failing_store
    app = make_app(Engine(store, clock=lambda: NOW), "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = await post_draft(pilot, TOP_UP)
        assert store.record_calls == 1 and "Not confirmed" in _receipt(compose)
        app.connect_store()  # reconnected from elsewhere (e.g. ctrl+r on another screen)
        await settle(pilot)
        assert app.connection == "connected" and store.record_calls == 1
        compose._rerun_on_return = True  # as if a read was cancelled when the screen was left
        compose.on_screen_resume()
        await settle(pilot)
        assert store.record_calls == 1  # only the operator's ctrl+s / ctrl+r posts again


async def test_conflicting_resubmission_is_explained(engine: Engine) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = await post_draft(pilot, TOP_UP)
        assert "recorded" in _receipt(compose)
        edited = [dataclasses.replace(leg, amount="11.00") for leg in TOP_UP]
        await compose.set_draft(edited, compose._transaction_id)  # same id, other amounts
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = _receipt(compose)
        assert "already recorded with a different entry set" in text and "ctrl+n" in text


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


async def test_ctrl_r_after_an_unavailable_post_reconnects_and_posts(
    failing_store: FailFirstPostStore,
) -> None:
    store = failing_store
    app = make_app(Engine(store, clock=lambda: NOW), "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = await post_draft(pilot, TOP_UP)
        assert app.connection == "unavailable"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert store.record_calls == 2 and "recorded" in _receipt(compose)
