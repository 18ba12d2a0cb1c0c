"""The chart: what it draws first, named balances, wildcards one currency at a time, as-of, export, help, resizing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Input, Select, Static

from ledger_tui.app.chart.balance_chart import BalanceChart
from ledger_tui.app.chart.help import ChartHelp
from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.app.widgets.dialogs import PathPrompt
from ledger_tui.app.widgets.formatting import money_text
from ledger_tui.domain.address import parse_pattern
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.engine import Engine
from ledger_tui.ledger import read_named_balances

from ...support.console import (
    ALICE,
    BRUNO,
    NOW,
    SIZE,
    chart_closings,
    fixed_id,
    make_app,
    post_sample,
    settle,
)
from ...support.stores import FixedClock

CUSTOMERS = "*/com.fintech.customer/*/*/*"  # alice (GBP, fintech_uk) and bruno (EUR, fintech_eu)


def _chart(app: object) -> ChartScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ChartScreen)
    return screen


def _rows(screen: ChartScreen) -> list[list[str]]:
    table: DataTable[str | Text] = screen.query_one("#chart-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def _status(screen: ChartScreen) -> str:
    return str(screen.query_one("#chart-status", Static).render())


async def _draw(pilot: object, screen: ChartScreen, address: str, as_of: str = "") -> None:
    screen.query_one("#chart-address", Input).value = address
    screen.query_one("#chart-as-of", Input).value = as_of
    screen.action_draw()
    await settle(pilot)  # type: ignore[arg-type]
    screen.query_one("#chart-table").focus()


async def _closing(engine: Engine, target: str, currency: str) -> str:
    rows = await engine.balance(parse_pattern(target, any_level=True))
    [row] = [row for row in rows if row.currency == currency]
    return money_text(row.closing, currency, engine.currencies)  # as the table shows it (grouped)


async def test_chart_draws_first_named_balance_on_open(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#chart-named").value == "customer-facing-balance"  # type: ignore[attr-defined]
        closing = await chart_closings(app)
        assert closing and closing[-1] == "1,104.25"


async def test_named_balances_are_listed_with_their_description(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _chart(app)
        select: Select[str] = screen.query_one("#chart-named", Select)
        labels = {str(label) for label, _ in select._options}
        for balance in read_named_balances(None).values():
            assert f"{balance.name} · {balance.description}" in labels
        assert select.value == min(read_named_balances(None))
        shown = read_named_balances(None)[str(select.value)]
        assert shown.description in _status(screen)


async def test_a_wildcard_at_any_level_with_one_currency_at_a_time(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _chart(app)
        await _draw(pilot, screen, CUSTOMERS)
        currency: Select[str] = screen.query_one("#chart-currency", Select)
        assert currency.value == "GBP"  # the currency the first chart showed is kept, alone on its axis
        assert {row[1] for row in _rows(screen)} == {"GBP"}
        assert _rows(screen)[-1][4] == await _closing(engine, CUSTOMERS, "GBP")
        assert _rows(screen)[-1][4] == await _closing(engine, str(ALICE), "GBP")
        assert "GBP, 1 of 2 currencies" in _status(screen)
        await pilot.press("c")
        await settle(pilot)
        assert {row[1] for row in _rows(screen)} == {"EUR", "GBP"}
        assert "all 2 currencies on one axis" in _status(screen)
        await pilot.press("c")
        await settle(pilot)
        assert {row[1] for row in _rows(screen)} == {"EUR"}
        assert _rows(screen)[-1][4] == await _closing(engine, str(BRUNO), "EUR")
        await _draw(pilot, screen, "fintech_eu/*/*/*/*")  # EUR only: the selector shows the one there is
        assert currency.value == "EUR" and {row[1] for row in _rows(screen)} == {"EUR"}
        assert _rows(screen)[-1][4] == await _closing(engine, "fintech_eu/*/*/*/*", "EUR")


@pytest.mark.both_stores
async def test_as_of_shows_what_the_ledger_held_then(store: object) -> None:
    clock = FixedClock(NOW)
    engine = Engine(store, clock=clock, named_balances=read_named_balances(None))  # type: ignore[arg-type]
    await post_sample(engine)
    before = clock.now + timedelta(hours=1)
    clock.advance(hours=48)
    late = NOW - timedelta(days=20)  # back-dated: it changes October's closing after the fact
    legs = [
        Leg(BRUNO, Side.DEBIT, Decimal("1.00"), "", late),
        Leg(Address(*BRUNO.as_tuple()[:4], "carla"), Side.CREDIT, Decimal("1.00"), "", late),
    ]
    await engine.post(build_entry_set(fixed_id(300), legs))
    app = make_app(engine, "chart", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _chart(app)
        target = str(BRUNO)
        await _draw(pilot, screen, target)
        now_closing = _rows(screen)[-1][4]
        assert now_closing == await _closing(engine, target, "EUR")
        assert "as of" not in _status(screen)
        await _draw(pilot, screen, target, as_of=before.isoformat())
        then = next(row for row in await engine.balance(BRUNO, as_of=before) if row.currency == "EUR")
        assert _rows(screen)[-1][4] == engine.currencies.format(then.closing, "EUR")
        assert _rows(screen)[-1][4] != now_closing
        assert "as of 2024-11-05 10:30:00 UTC" in _status(screen)
        screen.query_one("#chart-as-of", Input).value = "yesterday"
        screen.action_draw()
        await settle(pilot)
        assert _rows(screen)[-1][4] == engine.currencies.format(then.closing, "EUR")  # nothing redrawn


async def test_export_writes_every_currency_of_the_series(engine: Engine, tmp_path: Path) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _chart(app)
        await _draw(pilot, screen, CUSTOMERS)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        target = tmp_path / "series.csv"
        app.screen.query_one("#prompt-path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert {row["currency"] for row in rows} == {"GBP", "EUR"}
    assert len(rows) == 2 * 12  # twelve months, both currencies
    last = {row["currency"]: row["closing_balance"] for row in rows if row["period_end"] == "2024-12-01"}
    assert last == {
        "GBP": (await _closing(engine, str(ALICE), "GBP")).replace(",", ""),  # exports are ungrouped
        "EUR": (await _closing(engine, str(BRUNO), "EUR")).replace(",", ""),
    }


async def test_e_explains_opening_balance_buckets_and_wildcards(engine: Engine) -> None:
    app = make_app(engine, "chart")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _chart(app).query_one("#chart-table").focus()
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ChartHelp)
        text = str(app.screen.query_one("#chart-help-text", Static).render())
        for words in (
            "opening balance",
            "Buckets",
            "is any value at its level",
            "As of",
            "Currency selector",
        ):
            assert words in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChartScreen)


async def test_chart_says_loading_until_the_series_arrives(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        chart = app.screen
        assert isinstance(chart, ChartScreen)
        plot = chart.query_one(BalanceChart)
        notes: list[str] = []
        original = plot.show_series

        def spy(*args: object) -> None:
            notes.append(plot.note)  # what was on screen just before the answer
            original(*args)  # type: ignore[arg-type]

        plot.show_series = spy  # type: ignore[method-assign,assignment]
        await settle(pilot)
        assert notes and all(note.startswith("Loading ") for note in notes)
        assert "No entries" not in plot.note


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
