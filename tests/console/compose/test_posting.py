"""Posting a draft: balanced or refused, new accounts asked about, duplicates and conflicts explained, failures retried safely."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Static

from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.app.widgets.dialogs import ConfirmDialog
from ledger_tui.domain.blocks import SealPolicy
from ledger_tui.domain.claims import RecordOutcome
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.engine import Engine
from ledger_tui.store.sqlite import SqliteStore

from ...support.console import (
    ALICE,
    NOW,
    SIZE,
    TOP_UP,
    fixed_id,
    make_app,
    post_draft,
    post_sample,
    receipt_text,
    settle,
)


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


@pytest.mark.both_stores
async def test_resubmit_reports_duplicate(engine: Engine) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await compose.set_draft(TOP_UP)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")  # yes, create the two accounts
        await settle(pilot)
        assert "· recorded at" in receipt_text(app.screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "duplicate" in receipt_text(app.screen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert receipt_text(app.screen) == ""
    accounts = await engine.accounts()
    assert ALICE in accounts
    rows = await engine.balance(ALICE)
    assert str(rows[0].closing) == "10.00"  # posted once despite two submits


async def test_unbalanced_draft_is_not_posted(engine: Engine) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        short = LegDraft("fintech_uk", "com.fintech.customer", "current", "GBP", "alice", "credit", "9.00")
        await compose.set_draft([TOP_UP[0], short])
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert receipt_text(app.screen) == ""
    assert await engine.accounts() == []


async def test_posting_to_a_new_account_asks_first(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        typo = dataclasses.replace(TOP_UP[1], namespace="com.fintech.cu")
        await post_draft(pilot, [TOP_UP[0], typo], new_accounts=False)
        assert isinstance(app.screen, ConfirmDialog)
        body = str(app.screen.query_one("#confirm-body", Static).render())
        assert "fintech_uk/com.fintech.cu/current/GBP/alice" in body
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert str(app.screen.query_one("#receipt", Static).render()) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "recorded" in str(app.screen.query_one("#receipt", Static).render())
    assert any(a.namespace == "com.fintech.cu" for a in await engine.accounts())


async def test_ctrl_n_asks_before_dropping_a_typed_draft(engine: Engine) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await compose.set_draft([TOP_UP[0], LegDraft(side="credit")])
        first_id = compose._transaction_id
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert compose._transaction_id == first_id and compose._drafts()[0] == TOP_UP[0]
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert compose._transaction_id != first_id and all(d.is_blank for d in compose._drafts())
        await pilot.press("ctrl+n")  # a blank draft goes without asking
        await settle(pilot)
        assert app.screen is compose


async def test_the_new_account_question_asks_the_ledger_not_the_loaded_list(engine: Engine) -> None:
    """An account created elsewhere after the screen loaded its completions is not 'new'; one
    never seen is asked about, whatever the screen had loaded."""
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        elsewhere = Address("fintech_uk", "com.fintech.customer", "current", "GBP", "dora")
        ops = Address(*dataclasses.astuple(TOP_UP[0])[:5])
        legs = [
            Leg(ops, Side.DEBIT, Decimal("5.00"), "another client", NOW),
            Leg(elsewhere, Side.CREDIT, Decimal("5.00"), "another client", NOW),
        ]
        await engine.post(build_entry_set(fixed_id(77), legs))  # after the completions were loaded
        dora = dataclasses.replace(TOP_UP[1], account_id="dora")
        await post_draft(pilot, [TOP_UP[0], dora], new_accounts=False)
        assert isinstance(app.screen, ComposeScreen), "an existing account must not be asked about"
        assert "recorded" in receipt_text(app.screen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        if isinstance(app.screen, ConfirmDialog):
            await pilot.press("y")
            await settle(pilot)
        erin = dataclasses.replace(TOP_UP[1], account_id="erin")
        await post_draft(pilot, [TOP_UP[0], erin], new_accounts=False)
        assert isinstance(app.screen, ConfirmDialog)
        body = str(app.screen.query_one("#confirm-body", Static).render())
        assert "fintech_uk/com.fintech.customer/current/GBP/erin" in body
        assert "dora" not in body and "ops" not in body


async def test_returning_to_compose_never_reposts_a_failed_draft(failing_store: FailFirstPostStore) -> None:
    store = failing_store
    app = make_app(Engine(store, clock=lambda: NOW), "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = await post_draft(pilot, TOP_UP)
        assert store.record_calls == 1 and "Not confirmed" in receipt_text(compose)
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
        assert "recorded" in receipt_text(compose)
        edited = [dataclasses.replace(leg, amount="11.00") for leg in TOP_UP]
        await compose.set_draft(edited, compose._transaction_id)  # same id, other amounts
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = receipt_text(compose)
        assert "already recorded with a different entry set" in text and "ctrl+n" in text


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
        assert store.record_calls == 2 and "recorded" in receipt_text(compose)
