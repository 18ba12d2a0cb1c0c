"""Finding accounts: the finder opens any account, from any screen, by words in any order, and sees new ones."""

from __future__ import annotations

import pytest

from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.app.find.finder import AccountFinder
from ledger_tui.engine import Engine

from ...support.console import (
    BRUNO,
    SIZE,
    TOP_UP,
    browse_screen,
    customer,
    make_app,
    post_customers,
    post_draft,
    post_sample,
    settle,
    tree_cursor_path,
)


@pytest.mark.both_stores
async def test_the_finder_opens_an_account_hidden_past_more(engine: Engine) -> None:
    names = [f"cust-{n:02d}" for n in range(30)]
    await post_customers(engine, names)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = browse_screen(pilot)
        browse.query_one(AccountTree).page_size = 4  # cust-27 is seven pages down its level
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, AccountFinder)
        await pilot.press(*"cust-27")
        await settle(pilot)
        count = str(app.screen.query_one("#finder-count").render())
        assert "1 account of 31" in count
        await pilot.press("enter")
        await settle(pilot, rounds=12)
        browse = browse_screen(pilot)
        assert tree_cursor_path(browse) == customer("cust-27").as_tuple()
        assert browse.query_one(EntriesPanel).address == customer("cust-27")


async def test_ctrl_f_from_another_screen_and_words_in_any_order(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.set_focus(None)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, AccountFinder)
        await pilot.press(*"EUR bruno")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot, rounds=8)
        browse = browse_screen(pilot)
        assert tree_cursor_path(browse) == BRUNO.as_tuple()
        assert browse.query_one(EntriesPanel).address == BRUNO


async def test_escape_closes_the_finder_and_a_miss_says_so(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"nobody-here")
        await settle(pilot)
        assert "No account matches." in str(app.screen.query_one("#finder-count").render())
        await pilot.press("enter", "escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_the_finder_sees_an_account_posted_from_this_console(engine: Engine) -> None:
    await post_customers(engine, ["zed"])
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(await app.context.accounts.index(engine)) == 2  # loaded (and cached) before the post
        assert isinstance(app.screen, ComposeScreen)
        await post_draft(pilot, TOP_UP)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"alice")
        await settle(pilot)
        assert "1 account of 4" in str(app.screen.query_one("#finder-count").render())
