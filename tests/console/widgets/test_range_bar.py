"""The range bar: enter shows the range, escape gives the keys back, a bad date is a notice that changes nothing."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.widgets.range_bar import RangeBar
from ledger_tui.domain.timeutil import month_range
from ledger_tui.engine import Engine

from ...support.console import (
    ALICE,
    SIZE,
    descriptions,
    error_notices,
    make_app,
    panel_text,
    post_sample,
    settle,
    show_alice,
    type_burst,
)


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
        await show_alice(app, pilot)
        assert descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]
        await pilot.press("f")
        assert app.focused is not None and app.focused.id == "range-from"
        app.screen.query_one("#range-to", Input).value = "2024-11-01"
        await _submit(pilot, app.screen.query_one("#range-from", Input), "2024-10-01")
        assert descriptions(app) == ["Salary"]
        assert "bucket 2024-10" in panel_text(app)
        assert app.focused is app.screen.query_one("#entries")

        await pilot.press("c")  # all dates again, inputs emptied
        await settle(pilot)
        assert descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]
        assert "range all dates" in panel_text(app)
        assert app.screen.query_one("#range-from", Input).value == ""
        assert app.screen.query_one("#range-to", Input).value == ""


async def test_bad_date_in_the_range_bar_is_a_notice_and_changes_nothing(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await show_alice(app, pilot, month_range("2024-10"))
        assert descriptions(app) == ["Salary"]
        await _submit(pilot, app.screen.query_one("#range-from", Input), "2024-13-45")
        assert [title for title, _ in error_notices(app)] == ["Date range"]
        assert "not an ISO 8601 date" in error_notices(app)[0][1]
        assert descriptions(app) == ["Salary"] and "bucket 2024-10" in panel_text(app)

        await _submit(pilot, app.screen.query_one("#range-from", Input), "2024-12-01")  # after To
        assert error_notices(app)[-1] == ("Date range", "range end is before its start")
        assert descriptions(app) == ["Salary"]
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
        assert [title for title, _ in error_notices(app)] == ["Chart"]
        assert "'next tuesday' is not an ISO 8601 date" in error_notices(app)[0][1]
        assert table.row_count == rows_before
        assert app.is_running


async def test_browse_dates_give_the_keys_back_on_enter_and_escape(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.show_entries(ALICE)
        await settle(pilot)
        # Typed in one burst: "]" after enter is a browse key (next month), not a character in To.
        await pilot.press("f")
        await type_burst(pilot, "2024-09-01\t2024-12-31")
        await type_burst(pilot, "\n]")
        assert app.focused is browse.query_one("#entries")
        assert browse.query_one("#range-from", Input).value == "2024-09-01"
        assert browse.query_one("#range-to", Input).value == "2024-10-01"  # one month from From
        await pilot.press("f")
        await type_burst(pilot, "\x1b2")  # escape leaves the dates, so "2" switches to browse
        assert app.focused is browse.query_one("#entries")
        assert isinstance(app.screen, BrowseScreen)
        assert browse.query_one("#range-from", Input).value == "2024-09-01"
