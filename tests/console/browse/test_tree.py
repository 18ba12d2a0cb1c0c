"""Browse's account tree: pages of a level, type-ahead, a failed level, walking open to an account."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerFailed

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse import account_tree
from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine

from ...support.console import (
    BRUNO,
    FEES_EUR,
    SIZE,
    fixed_id,
    make_app,
    post_sample,
    settle,
)


def _errors(app: LedgerApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications if n.severity == "error"]


async def _settle_through_failures(pilot: Pilot[None]) -> None:
    """Like ``settle``, for tests whose workers fail on purpose (waiting on one re-raises its error)."""
    for _ in range(4):
        with contextlib.suppress(WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


PREFIX = ("bank_uk", "com.bank.customer", "current", "GBP")


FLOAT = Address("bank_uk", "com.bank.treasury", "float", "GBP", "main")


def customer(name: str) -> Address:
    return Address(*PREFIX, name)


async def post_customers(engine: Engine, names: list[str]) -> None:
    """One deposit from the float to each customer account."""
    for number, name in enumerate(names):
        when = datetime(2024, 10, 1 + number % 28, tzinfo=UTC)
        legs = [
            Leg(FLOAT, Side.DEBIT, Decimal("5.00"), "deposit", when),
            Leg(customer(name), Side.CREDIT, Decimal("5.00"), "deposit", when),
        ]
        await engine.post(build_entry_set(fixed_id(500 + number), legs))


def _browse(pilot: Pilot[None]) -> BrowseScreen:
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen), screen
    return screen


def _cursor_path(screen: BrowseScreen) -> tuple[str, ...] | None:
    node = screen.query_one(AccountTree).cursor_node
    return None if node is None or node.data is None else node.data.path


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
        await _settle_through_failures(pilot)
        assert failures == [(str(first.label),)]
        assert [title for title, _ in _errors(app)] == ["Timed out"]
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
        browse = _browse(pilot)
        browse.query_one(AccountTree).reveal(customer("alpha"))
        await settle(pilot, rounds=8)
        assert _cursor_path(browse) == customer("alpha").as_tuple()
        await pilot.press("b")
        assert _cursor_path(browse) == customer("bravo").as_tuple()
        await pilot.press("a")  # "ba": the prefix goes on, and the next match is the legal entity
        assert _cursor_path(browse) == ("bank_uk",)
        await pilot.pause(1.1)
        await pilot.press("a", "m")  # a new prefix: "am"
        assert _cursor_path(browse) == customer("amber").as_tuple()
        await pilot.pause(1.1)  # the prefix has lapsed: n is browse's "next page" again, not "nora"
        await pilot.press("n")
        assert _cursor_path(browse) == customer("amber").as_tuple()
        await pilot.press("b", "n")  # but n continues a prefix being typed ("bn": no such node)
        assert _cursor_path(browse) == customer("bravo").as_tuple()


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
