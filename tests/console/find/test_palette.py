"""The command palette finds accounts and reaches every screen's actions."""

from __future__ import annotations

from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.app.trial_balance.screen import TrialBalanceScreen
from ledger_tui.engine import Engine

from ...support.console import BRUNO, SIZE, browse_screen, make_app, post_sample, settle, tree_cursor_path


async def test_the_palette_finds_accounts(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"bruno")
        for _ in range(20):  # the palette searches in the background
            await pilot.pause(0.05)
            await settle(pilot, rounds=1)
        await pilot.press("enter")
        await settle(pilot, rounds=8)
        browse = browse_screen(pilot)
        assert tree_cursor_path(browse) == BRUNO.as_tuple()
        assert browse.query_one(EntriesPanel).address == BRUNO


async def test_palette_and_keys_reach_the_trial_balance(engine: Engine) -> None:
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.set_focus(None)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, TrialBalanceScreen)
        await pilot.press("f3", "f7")
        await settle(pilot)
        assert isinstance(app.screen, TrialBalanceScreen)
