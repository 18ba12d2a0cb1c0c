"""A transaction's detail: its legs, the jump to a leg's month, copying its id, reversing it once."""

from __future__ import annotations

import uuid

from ledger_tui.app.browse.account_tree import AccountTree, NodeInfo
from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.app.widgets.dialogs import ConfirmDialog
from ledger_tui.domain.model import PostStatus
from ledger_tui.domain.reversal import REVERSAL_NAMESPACE
from ledger_tui.domain.timeutil import TimeRange, month_range
from ledger_tui.engine import Engine

from ...support.console import (
    BRUNO,
    FEES_GBP,
    SIZE,
    column,
    descriptions,
    fixed_id,
    make_app,
    notices,
    panel_text,
    post_sample,
    settle,
    show_alice,
    show_in_browse,
    static_text,
)


async def test_jump_from_a_transaction_opens_the_tree_at_the_legs_month(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        browse = await show_alice(app, pilot, month_range("2024-09"))
        assert descriptions(app) == ["Card fee"]
        await pilot.press("e", "enter")  # the entry's transaction
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        await pilot.press("down", "enter")  # its second leg: the fee account
        for _ in range(4):  # one tree level arrives per round
            await settle(pilot)
        assert app.screen is browse
        assert browse.query_one(EntriesPanel).address == FEES_GBP
        assert descriptions(app) == ["Card fee"] and "bucket 2024-09" in panel_text(app)
        tree = browse.query_one(AccountTree)
        assert tree.cursor_node is not None
        assert tree.cursor_node.data == NodeInfo("bucket", FEES_GBP.as_tuple(), bucket="2024-09")


async def test_reverse_from_the_detail_asks_posts_shows_the_receipt_and_refuses_twice(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    reversal_id = uuid.uuid5(REVERSAL_NAMESPACE, str(fixed_id(5)))
    async with app.run_test(size=SIZE) as pilot:
        browse = await show_in_browse(app, pilot, BRUNO)
        await pilot.press("e", "down", "enter", "R")  # the FX fee: debit bruno 45.99, credit fees
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        body = static_text(app, "#confirm-body")
        assert str(fixed_id(5)) in body
        assert "credit          45.99 EUR  fintech_eu/com.fintech.customer/current/EUR/bruno" in body
        assert "debit           45.99 EUR  fintech_eu/com.fintech.revenue/fees/EUR/main" in body
        await pilot.press("n")  # declined: nothing posted
        await settle(pilot)
        assert (await engine.reversal_of(fixed_id(5))) is None

        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TransactionDetail)
        assert static_text(app, "#detail-title") == f"Reversal {reversal_id}"
        assert f"reverses {fixed_id(5)}" in static_text(app, "#detail-summary")
        assert column(app, "side", "#detail-legs") == ["credit", "debit"]
        posted = await engine.reversal_of(fixed_id(5))
        assert posted is not None and posted.transaction_id == reversal_id

        await pilot.press("escape")  # back on browse, whose entries now show the reversal
        await settle(pilot)
        assert app.screen is browse
        await settle(pilot)
        assert column(app, "side")[-1] == "credit" and column(app, "balance")[-1] == "800.00"

        app.push_screen(TransactionDetail(app.context, fixed_id(5)))  # the original again: already reversed
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert any(n.startswith("Already reversed") and str(reversal_id) in n for n in notices(app))
        again = await engine.reverse(fixed_id(5))
        assert again.status is PostStatus.DUPLICATE


async def test_copy_the_transaction_id_from_the_entries_and_the_detail(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(TimeRange())
        browse.show_entries(BRUNO)
        await settle(pilot)
        await pilot.press("e", "down", "y")  # bruno's second entry: the FX fee, set 5
        await settle(pilot)
        assert app.clipboard == str(fixed_id(5))
        await pilot.press("up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == str(fixed_id(3))
        assert any(str(fixed_id(3)) in n.message for n in app._notifications)
