"""Flows through the console's widgets: range bar, account tree, entries panel and balance chart."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from textual.worker import WorkerFailed

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse import account_tree
from ledger_tui.app.browse.account_tree import AccountTree, NodeInfo
from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.app.chart.balance_chart import BalanceChart
from ledger_tui.app.widgets.range_bar import RangeBar
from ledger_tui.domain.timeutil import TimeRange, month_range
from ledger_tui.engine import Engine

from ..support.console import ALICE, FEES_GBP, SIZE, make_app, post_sample, settle


def _descriptions(app: LedgerApp) -> list[str]:
    table: DataTable[object] = app.screen.query_one("#entries", DataTable)
    return [str(cell) for cell in table.get_column("description")]


def _panel_text(app: LedgerApp) -> str:
    return str(app.screen.query_one("#partition-panel", Static).render())


def _errors(app: LedgerApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications if n.severity == "error"]


async def _settle_through_failures(pilot: Pilot[None]) -> None:
    """Like ``settle``, for tests whose workers fail on purpose (waiting on one re-raises its error)."""
    for _ in range(4):
        with contextlib.suppress(WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _browse_alice(
    app: LedgerApp, pilot: Pilot[None], time_range: TimeRange = TimeRange()
) -> BrowseScreen:
    await settle(pilot)
    browse = app.screen
    assert isinstance(browse, BrowseScreen)
    browse.set_range(time_range)
    browse.show_entries(ALICE)
    await _settle_through_failures(pilot)
    return browse


async def _submit(pilot: Pilot[None], field: Input, text: str) -> None:
    field.value = text
    field.focus()
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def test_enter_in_the_range_bar_shows_that_range(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await _browse_alice(app, pilot)
        assert _descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]
        await pilot.press("f")
        assert app.focused is not None and app.focused.id == "range-from"
        app.screen.query_one("#range-to", Input).value = "2024-11-01"
        await _submit(pilot, app.screen.query_one("#range-from", Input), "2024-10-01")
        assert _descriptions(app) == ["Salary"]
        assert "bucket 2024-10" in _panel_text(app)
        assert app.focused is app.screen.query_one("#entries")

        await pilot.press("c")  # all dates again, inputs emptied
        await settle(pilot)
        assert _descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]
        assert "range all dates" in _panel_text(app)
        assert app.screen.query_one("#range-from", Input).value == ""
        assert app.screen.query_one("#range-to", Input).value == ""


async def test_bad_date_in_the_range_bar_is_a_notice_and_changes_nothing(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await _browse_alice(app, pilot, month_range("2024-10"))
        assert _descriptions(app) == ["Salary"]
        await _submit(pilot, app.screen.query_one("#range-from", Input), "2024-13-45")
        assert [title for title, _ in _errors(app)] == ["Date range"]
        assert "not an ISO 8601 date" in _errors(app)[0][1]
        assert _descriptions(app) == ["Salary"] and "bucket 2024-10" in _panel_text(app)

        await _submit(pilot, app.screen.query_one("#range-from", Input), "2024-12-01")  # after To
        assert _errors(app)[-1] == ("Date range", "range end is before its start")
        assert _descriptions(app) == ["Salary"]
        assert app.is_running


async def test_bad_date_in_the_chart_range_is_a_notice_and_keeps_the_chart(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table: DataTable[object] = app.screen.query_one("#chart-table", DataTable)
        rows_before = table.row_count
        assert rows_before > 0
        await _submit(pilot, app.screen.query_one(RangeBar).query_one("#range-to", Input), "next tuesday")
        assert [title for title, _ in _errors(app)] == ["Chart"]
        assert "'next tuesday' is not an ISO 8601 date" in _errors(app)[0][1]
        assert table.row_count == rows_before
        assert app.is_running


async def test_chart_is_redrawn_to_fill_a_resized_terminal(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chart = app.screen.query_one(BalanceChart)
        before = chart.size
        await pilot.resize_terminal(90, 50)
        await settle(pilot)
        assert chart.size != before
        lines = chart.render().plain.splitlines()  # type: ignore[union-attr]
        assert len(lines) == chart.size.height
        assert {len(line) for line in lines} == {chart.size.width}
        picture = "\n".join(lines)
        assert "Closing balance · named balance customer-facing-balance" in picture
        assert any("\u2800" < char <= "\u28ff" for char in picture)  # the braille line is still drawn


async def test_failed_entries_read_is_a_notice_and_ctrl_r_reads_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_sample(engine)
    real_entries = engine.entries

    async def timed_out(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError

    monkeypatch.setattr(engine, "entries", timed_out)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await _browse_alice(app, pilot)
        assert [title for title, _ in _errors(app)] == ["Timed out"]
        assert app.screen.query_one("#entries", DataTable).loading is False
        assert _descriptions(app) == []

        monkeypatch.setattr(engine, "entries", real_entries)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert _descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]


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


async def test_jump_from_a_transaction_opens_the_tree_at_the_legs_month(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        browse = await _browse_alice(app, pilot, month_range("2024-09"))
        assert _descriptions(app) == ["Card fee"]
        await pilot.press("e", "enter")  # the entry's transaction
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        await pilot.press("down", "enter")  # its second leg: the fee account
        for _ in range(4):  # one tree level arrives per round
            await settle(pilot)
        assert app.screen is browse
        assert browse.query_one(EntriesPanel).address == FEES_GBP
        assert _descriptions(app) == ["Card fee"] and "bucket 2024-09" in _panel_text(app)
        tree = browse.query_one(AccountTree)
        assert tree.cursor_node is not None
        assert tree.cursor_node.data == NodeInfo("bucket", FEES_GBP.as_tuple(), bucket="2024-09")
