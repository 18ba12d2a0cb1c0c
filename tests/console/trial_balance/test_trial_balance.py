"""The trial balance screen: rows equal the engine's balances, levels and drill-down, months, export, a failed read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.pilot import Pilot

from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.trial_balance.screen import TrialBalanceScreen
from ledger_tui.app.trial_balance.table import TrialBalanceTable
from ledger_tui.app.widgets.dialogs import PathPrompt
from ledger_tui.domain.address import AddressPattern
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.timeutil import TimeRange, month_range
from ledger_tui.domain.trial_balance import TrialBalance, TrialLine
from ledger_tui.engine import Engine

from ...support.console import ALICE, SIZE, make_app, post_sample, settle

NOVEMBER = month_range("2024-11")  # the month of the tests' clock


def _screen(pilot: Pilot[None]) -> TrialBalanceScreen:
    screen = pilot.app.screen
    assert isinstance(screen, TrialBalanceScreen), screen
    return screen


def _lines(screen: TrialBalanceScreen) -> list[TrialLine]:
    return list(screen.query_one(TrialBalanceTable)._lines)


@pytest.mark.both_stores
async def test_rows_equal_the_engine_balance_of_each_node(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "trial")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = _lines(_screen(pilot))
        nodes = [line for line in lines if line.path]
        assert nodes and all(len(line.path) == 4 for line in nodes)  # opens at LE/NS/NAME/CUR
        for line in nodes:
            [row] = await engine.balance(
                AddressPattern(line.path[0], line.path[1], line.path[2], line.path[3], "*"), NOVEMBER
            )
            assert (line.opening, line.debits, line.credits, line.closing) == (
                row.opening,
                row.debits,
                row.credits,
                row.closing,
            )
        totals = [line for line in lines if not line.path]
        assert {t.currency for t in totals} == {"GBP", "EUR"}
        assert all(t.debits == t.credits and t.closing == 0 for t in totals)
        assert "Debits = credits" in str(app.screen.query_one("#trial-status").render())


async def test_levels_and_drill_down_into_browse_for_the_period(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "trial")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _screen(pilot)
        await pilot.press("minus", "minus", "minus")
        await settle(pilot)
        assert {line.path for line in _lines(screen) if line.path} == {("fintech_eu",), ("fintech_uk",)}
        await pilot.press("minus")  # level 1 is the top
        await settle(pilot)
        table = screen.query_one(TrialBalanceTable)
        table.focus()
        table.move_cursor(row=1)  # fintech_uk
        for _ in range(4):  # enter opens a node one level deeper, the cursor on its first child
            await pilot.press("enter")
            await settle(pilot)
        line = table.line_under_cursor()
        assert line is not None and line.path[0] == "fintech_uk" and len(line.path) == 5
        while (line := table.line_under_cursor()) is not None and line.address != ALICE:
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot, rounds=8)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        panel = browse.query_one(EntriesPanel)
        assert panel.address == ALICE and panel.time_range == NOVEMBER


async def test_months_and_all_dates(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "trial")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _screen(pilot)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.time_range == month_range("2024-10")
        october = {line.path: line for line in _lines(screen) if line.path}
        await pilot.press("c")
        await settle(pilot)
        assert screen.time_range == TimeRange()
        everything = [line for line in _lines(screen) if line.path]
        assert all(line.opening == 0 for line in everything)  # no history before "all dates"
        expected: TrialBalance = await engine.trial_balance(month_range("2024-10"), per_account=False)
        assert october == {line.path: line for line in expected.lines(4)}


async def test_export_the_trial_balance(engine: Engine, tmp_path: Path) -> None:
    await post_sample(engine)
    app = make_app(engine, "trial")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("plus")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, PathPrompt)
        target = tmp_path / "trial.csv"
        prompt.query_one("#prompt-path").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        rows = list(csv.DictReader(target.read_text().splitlines()))
        shown = _lines(_screen(pilot))
        assert [row["account"] for row in rows] == [line.label or "TOTAL" for line in shown]
        assert [row["closing"] for row in rows] == [str(line.closing) for line in shown]
        assert any(str(target) in n.message for n in app._notifications)


async def test_a_failed_read_is_a_notice(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(*args: object, **kwargs: object) -> TrialBalance:
        raise StoreUnavailable("the node went away")

    monkeypatch.setattr(engine, "trial_balance", failing)
    app = make_app(engine, "trial")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any(str(n.title) == "Store unavailable" for n in app._notifications)
        assert not app.screen.query_one(TrialBalanceTable).loading
        assert app.is_running
