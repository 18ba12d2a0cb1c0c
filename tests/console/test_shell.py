"""The console's shell: connecting and reconnecting, leaving and coming back, sealing in the background, one post seen by every screen."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.timeutil import month_range
from ledger_tui.engine import Engine, SealReport
from ledger_tui.store.sqlite import SqliteStore

from ..support.console import (
    ALICE,
    NOW,
    SIZE,
    TOP_UP,
    chart_closings,
    descriptions,
    make_app,
    post_draft,
    post_sample,
    receipt_text,
    settle,
)


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


@pytest.mark.both_stores
async def test_post_then_browse_then_chart(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chart = app.screen
        assert isinstance(chart, ChartScreen)
        chart.query_one("#chart-named").value = "customer-facing-balance"  # type: ignore[attr-defined]
        await settle(pilot)
        before = await chart_closings(app)
        assert before[-1] == "1,104.25"

        await pilot.press("f2")
        await settle(pilot)
        await post_draft(pilot, TOP_UP)
        assert "recorded" in receipt_text(app.screen) and "duplicate" not in receipt_text(app.screen)

        await pilot.press("f3")
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(month_range("2024-11"))
        browse.show_entries(ALICE)
        await settle(pilot)
        shown = descriptions(app)
        assert shown == ["Account fee", "Test transfer"]  # recorded now (09:30 on the 5th)

        await pilot.press("f4")
        await settle(pilot)
        after = await chart_closings(app)
        assert after[-1] == "1,114.25"
        assert after[:-1] == before[:-1]


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
            assert descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]
    finally:
        await store.close()


async def test_the_open_console_seals_in_the_background(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_seal = engine.seal

    async def counting_seal(**kwargs: object) -> SealReport:
        calls.append(1)
        return await real_seal()

    monkeypatch.setattr(engine, "seal", counting_seal)
    await post_sample(engine)
    app = make_app(engine, "browse", seal_every=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert len(calls) >= 2  # once on connect, then on the interval
        assert app.screen.query("#entries")  # the screen went on working meanwhile


async def test_a_failed_background_seal_is_a_notice_not_a_crash(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_seal(**kwargs: object) -> SealReport:
        raise StoreUnavailable("the node went away while sealing")

    monkeypatch.setattr(engine, "seal", failing_seal)
    app = make_app(engine, "browse", seal_every=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [str(n.title) for n in app._notifications]
        assert any(title.startswith("Background sealing failed") for title in titles)
        assert app.is_running
