"""End-to-end console flows through the engine fixture (SQLite now; Cassandra by parametrising it)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.timeutil import TimeRange, month_range
from ledger_tui.engine import Engine
from ledger_tui.store.sqlite import SqliteStore

from ..support.console import ALICE, NOW, SIZE, TOP_UP, make_app, post_draft, post_many, post_sample, settle


def _receipt(app: LedgerApp) -> str:
    return str(app.screen.query_one("#receipt", Static).render())


def _rows(app: LedgerApp, selector: str) -> list[list[str]]:
    table: DataTable[object] = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def _descriptions(app: LedgerApp) -> list[str]:
    table: DataTable[object] = app.screen.query_one("#entries", DataTable)
    return [str(cell) for cell in table.get_column("description")]


async def _chart_closing(app: LedgerApp) -> list[str]:
    rows = _rows(app, "#chart-table")
    return [row[4] for row in rows if row[1] == "GBP"]


async def test_post_then_browse_then_chart(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chart = app.screen
        assert isinstance(chart, ChartScreen)
        chart.query_one("#chart-named").value = "customer-facing-balance"  # type: ignore[attr-defined]
        await settle(pilot)
        before = await _chart_closing(app)
        assert before[-1] == "1,104.25"

        await pilot.press("f2")
        await settle(pilot)
        await post_draft(pilot, TOP_UP)
        assert "recorded" in _receipt(app) and "duplicate" not in _receipt(app)

        await pilot.press("f3")
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(month_range("2024-11"))
        browse.show_entries(ALICE)
        await settle(pilot)
        descriptions = _descriptions(app)
        assert descriptions == ["Account fee", "Test transfer"]  # recorded now (09:30 on the 5th)

        await pilot.press("f4")
        await settle(pilot)
        after = await _chart_closing(app)
        assert after[-1] == "1,114.25"
        assert after[:-1] == before[:-1]


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
        assert "· recorded at" in _receipt(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "duplicate" in _receipt(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert _receipt(app) == ""
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
        assert _receipt(app) == ""
    assert await engine.accounts() == []


async def test_paging_forward_and_back_returns_same_rows(engine: Engine) -> None:
    await post_many(engine, 130)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(TimeRange())
        browse.show_entries(ALICE)
        await settle(pilot)
        first = _rows(app, "#entries")
        assert len(first) == 100
        await pilot.press("e", "n")
        await settle(pilot)
        second = _rows(app, "#entries")
        assert len(second) == 30
        assert second[0][0] > first[-1][0]
        await pilot.press("p")
        await settle(pilot)
        assert _rows(app, "#entries") == first
        await pilot.press("n")
        await settle(pilot)
        assert _rows(app, "#entries") == second
        # the running balance carries across the page boundary (every row is a credit)
        assert Decimal(second[0][3]) == Decimal(first[-1][3]) + Decimal(second[0][2])
        assert second[-1][3] == "215.15"  # 130 x 1.00 + (0.01 + ... + 1.30)


class FlakyStore(SqliteStore):
    """A store whose first connect fails like an unreachable node, then works (a real retry path)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.attempts = 0

    async def connect(self) -> None:
        self.attempts += 1
        if self.attempts == 1:
            raise StoreUnavailable("no answer from the node")
        await super().connect()


async def test_retry_reconnects_without_restart(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "flaky.sqlite")
    engine = Engine(store, clock=lambda: NOW)
    app = make_app(engine, "browse")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.connection == "unavailable"
            assert "unavailable" in app.sub_title
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert str(app.connection) == "connected"
            assert "The ledger is empty" in str(app.screen.query_one("#empty-state", Static).render())
    finally:
        await store.close()


async def test_chart_draws_first_named_balance_on_open(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#chart-named").value == "customer-facing-balance"  # type: ignore[attr-defined]
        closing = await _chart_closing(app)
        assert closing and closing[-1] == "1,104.25"


class GatedStore(SqliteStore):
    """A real SQLite store whose partition reads wait at a gate, to hold a query in flight."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.gate.set()
        self.reads_started = 0

    async def read_bucket(self, *args: Any, **kwargs: Any) -> Any:
        self.reads_started += 1
        await self.gate.wait()
        return await super().read_bucket(*args, **kwargs)


async def test_leaving_a_screen_cancels_its_query_and_returning_reruns_it(tmp_path: Path) -> None:
    store = GatedStore(tmp_path / "gated.sqlite")
    engine = Engine(store, clock=lambda: NOW)
    await store.connect()
    await store.apply_schema()
    await post_sample(engine)
    app = make_app(engine, "browse")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            browse = app.screen
            assert isinstance(browse, BrowseScreen)
            store.gate.clear()
            browse.show_entries(ALICE)
            await pilot.pause()
            entries_workers = [w for w in app.workers if w.group == "entries"]
            assert entries_workers and all(w.is_running for w in entries_workers)
            assert store.reads_started >= 1

            await pilot.press("f2")  # leave browse while its query waits
            await pilot.pause()
            assert all(w.is_cancelled for w in entries_workers)

            store.gate.set()
            await pilot.press("f3")  # come back: the query runs again
            await settle(pilot)
            descriptions = _descriptions(app)
            assert descriptions == ["Alice deposit", "Card fee", "Salary", "Account fee"]
    finally:
        await store.close()
