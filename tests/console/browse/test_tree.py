"""Browse's account tree: pages of a level, type-ahead, a failed level, walking open to an account."""

from __future__ import annotations

from typing import Any

import pytest

from ledger_tui.app.browse import account_tree
from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine

from ...support.console import (
    BRUNO,
    FEES_EUR,
    SIZE,
    browse_screen,
    customer,
    error_notices,
    make_app,
    post_customers,
    post_sample,
    settle,
    settle_through_failures,
    tree_cursor_path,
)


async def test_failed_tree_level_is_a_notice_and_can_be_opened_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_sample(engine)
    real_children = engine.children
    failures: list[tuple[str, ...]] = []

    async def first_level_fails_once(parent: tuple[str, ...], *args: Any, **kwargs: Any) -> Any:
        if parent and not failures:
            failures.append(parent)
            raise TimeoutError
        return await real_children(parent, *args, **kwargs)

    monkeypatch.setattr(engine, "children", first_level_fails_once)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(AccountTree)
        first = tree.root.children[0]
        await pilot.press("down", "enter")  # open the first legal entity: its read fails
        await settle_through_failures(pilot)
        assert failures == [(str(first.label),)]
        assert [title for title, _ in error_notices(app)] == ["Timed out"]
        assert tree.loading is False and not first.children

        await pilot.press("enter", "enter")  # close and open again: read again
        await settle(pilot)
        assert [str(child.label) for child in first.children] == [
            "com.fintech.account",
            "com.fintech.customer",
            "com.fintech.revenue",
        ]


@pytest.mark.both_stores
async def test_more_node_fetches_the_next_page_of_a_level(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_sample(engine)
    monkeypatch.setattr(account_tree, "TREE_PAGE_SIZE", 1)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(AccountTree)
        assert [str(node.label) for node in tree.root.children] == ["fintech_eu", "more…"]
        await pilot.press("down", "down", "enter")  # the cursor starts above the first node
        await settle(pilot)
        labels = [str(node.label) for node in tree.root.children]
        assert labels[:2] == ["fintech_eu", "fintech_uk"]
        for _ in range(2):  # a store may only learn a level is done by one more (empty) page
            if labels[-1] != "more…":
                break
            tree.select_node(tree.root.children[-1])
            await settle(pilot)
            labels = [str(node.label) for node in tree.root.children]
        assert labels == ["fintech_eu", "fintech_uk"]


async def test_type_ahead_in_the_tree(engine: Engine) -> None:
    await post_customers(engine, ["alpha", "amber", "bravo", "nora"])
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = browse_screen(pilot)
        browse.query_one(AccountTree).reveal(customer("alpha"))
        await settle(pilot, rounds=8)
        assert tree_cursor_path(browse) == customer("alpha").as_tuple()
        await pilot.press("b")
        assert tree_cursor_path(browse) == customer("bravo").as_tuple()
        await pilot.press("a")  # "ba": the prefix goes on, and the next match is the legal entity
        assert tree_cursor_path(browse) == ("bank_uk",)
        await pilot.pause(1.1)
        await pilot.press("a", "m")  # a new prefix: "am"
        assert tree_cursor_path(browse) == customer("amber").as_tuple()
        await pilot.pause(1.1)  # the prefix has lapsed: n is browse's "next page" again, not "nora"
        await pilot.press("n")
        assert tree_cursor_path(browse) == customer("amber").as_tuple()
        await pilot.press("b", "n")  # but n continues a prefix being typed ("bn": no such node)
        assert tree_cursor_path(browse) == customer("bravo").as_tuple()


async def test_go_to_leg_finds_an_account_past_the_first_page_of_a_level(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        tree = browse.query_one(AccountTree)
        tree.page_size = 1  # every level has more than one child: each is "past the first page"
        tree.reload()
        await settle(pilot)
        browse.set_range(TimeRange())
        browse.show_entries(BRUNO)
        await settle(pilot)
        await pilot.press("e", "down", "enter")  # bruno's FX fee
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        await pilot.press("down", "enter")  # its second leg: fees, under the third namespace of fintech_eu
        await settle(pilot, rounds=8)
        node = tree.cursor_node
        assert node is not None and node.data is not None
        address = browse._panel.address
        assert address == FEES_EUR
        assert node.data.kind == "bucket" and node.data.path[:5] == address.as_tuple()
