"""Compose forecasts the bounded accounts of a draft: what each has, its bound, what the draft
leaves; a draft that would break a bound is not posted (a notice says why), one within is."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from textual.pilot import Pilot

from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.limits_panel import LimitsPanel
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.engine import Engine

from ...support.console import ALICE, SIZE, SnapCompare, make_app, make_ledger, new_engine, settle, until

OPS = ("fintech_uk", "com.fintech.account", "main", "GBP", "ops")
ALICE_PARTS = ALICE.as_tuple()


@pytest.fixture
def limited(tmp_path: Path) -> Engine:
    """The fixed ledger with alice's account bounded at --min 0."""
    path = make_ledger(tmp_path / "limited.sqlite")

    async def bound() -> None:
        engine = new_engine(path)
        await engine.connect()
        await engine.limits().set(str(ALICE), "0", None, "test")
        await engine.close()

    asyncio.run(bound())
    return new_engine(path)


def _spend(amount: str) -> list[LegDraft]:
    return [LegDraft(*ALICE_PARTS, side="debit", amount=amount, description="Card"),
            LegDraft(*OPS, side="credit", amount=amount, description="Card")]  # fmt: skip


async def _draft(pilot: Pilot[None], drafts: list[LegDraft]) -> ComposeScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ComposeScreen)
    await screen.set_draft(drafts)
    screen.recheck()
    await settle(pilot)
    return screen


async def test_a_draft_past_the_bound_is_named_and_not_posted(limited: Engine) -> None:
    app = make_app(limited)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        have = (await limited.balance(ALICE))[0].closing
        screen = await _draft(pilot, _spend(str(have + Decimal("0.01"))))
        panel = screen.query_one(LimitsPanel)
        await until(pilot, lambda: panel.breaking is not None)
        assert "would go below its minimum" in str(panel.render()) and panel.has_class("-shown")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("Not posted: a limit" in str(n.title) for n in app._notifications)
        assert (await limited.balance(ALICE))[0].closing == have
        await _draft(pilot, _spend(str(have)))
        await until(pilot, lambda: panel.breaking is None and "after this set 0.00" in str(panel.render()))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await limited.balance(ALICE))[0].closing == 0


async def test_the_panel_stays_hidden_without_bounded_accounts(ledger: Engine) -> None:
    app = make_app(ledger)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _draft(pilot, _spend("5.00"))
        assert not screen.query_one(LimitsPanel).has_class("-shown")


def test_compose_past_a_limit(snap_compare: SnapCompare, limited: Engine) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await _draft(pilot, _spend("5000.00"))

    assert snap_compare(make_app(limited), terminal_size=SIZE, run_before=run_before)


async def test_f9_holds_the_draft_and_the_hold_counts_against_the_bound(limited: Engine) -> None:
    app = make_app(limited)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        have = (await limited.balance(ALICE))[0].closing
        screen = await _draft(pilot, _spend(str(have - Decimal("1.00"))))
        held_id = screen._transaction_id
        await pilot.press("f9")
        await settle(pilot)
        prompt = pilot.app.screen.query_one("Input")
        prompt.value = "15m"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        hold = await limited.holds().get(held_id)
        assert hold.outcome is None and hold.expires_at - hold.transaction.recorded_at == timedelta(
            minutes=15
        )
        assert any("held until" in str(n.message) for n in app._notifications)
        assert screen._transaction_id != held_id  # a new draft: the held id is taken
        screen = await _draft(pilot, _spend("1.01"))  # what is left to spend is 1.00
        panel = screen.query_one(LimitsPanel)
        await until(pilot, lambda: panel.breaking is not None)
