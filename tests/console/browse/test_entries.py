"""Browse's entries: ids, pages, months, filters, as-of, export, and a failed read."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.entry_filter_dialog import EntryFilterDialog
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.app.widgets.dialogs import PathPrompt
from ledger_tui.domain.entry_filter import EntryFilter
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange, month_range
from ledger_tui.engine import Engine

from ...support.console import (
    ALICE,
    BRUNO,
    FEES_GBP,
    NOW,
    OPS_GBP,
    SIZE,
    column,
    descriptions,
    error_notices,
    fixed_id,
    make_app,
    notices,
    post_many,
    post_sample,
    settle,
    show_alice,
    show_in_browse,
    static_text,
    table_rows,
)


def as_of_value(field: Input) -> object:
    from ledger_tui.domain.timeutil import parse_instant

    return parse_instant(field.value)


async def test_the_id_column_tells_rows_apart_and_the_line_below_names_the_whole_id(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await show_in_browse(app, pilot, BRUNO)
        assert column(app, "transaction") == ["00000000…0003", "00000000…0005"]
        await pilot.press("e", "down")
        await settle(pilot)
        assert str(fixed_id(5)) in static_text(app, "#entry-line")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        assert static_text(app, "#detail-title") == f"Transaction {fixed_id(5)}"


async def test_filter_by_text_amount_and_side_keeps_the_accounts_running_balance(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await show_in_browse(app, pilot, ALICE)
        everything = dict(zip(column(app, "description"), column(app, "balance"), strict=True))
        await pilot.press("e", "slash")
        await settle(pilot)
        assert isinstance(app.screen, EntryFilterDialog)
        app.screen.query_one("#filter-text", Input).value = "FEE"
        await pilot.press("enter")
        await settle(pilot)
        assert column(app, "description") == ["Card fee", "Account fee"]
        assert column(app, "balance") == [everything["Card fee"], everything["Account fee"]]
        panel = static_text(app, "#partition-panel")
        assert "description has 'FEE'" in panel and "shown 2 entries: debits 195.75" in panel

        await pilot.press("slash")
        await settle(pilot)
        app.screen.query_one("#filter-text", Input).value = ""
        app.screen.query_one("#filter-low", Input).value = "1,000"
        await pilot.press("enter")
        await settle(pilot)
        assert column(app, "description") == ["Alice deposit"]

        await pilot.press("slash")
        await settle(pilot)
        app.screen.query_one("#filter-low", Input).value = "lots"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EntryFilterDialog)  # a bad amount stays in the dialog, named
        assert "minimum" in static_text(app, "#filter-error")
        await pilot.press("escape")  # cancels: the filter stays as it was
        await settle(pilot)
        assert column(app, "description") == ["Alice deposit"]

        await pilot.press("escape")  # on browse: clears the filter
        await settle(pilot)
        assert column(app, "description") == list(everything)
        assert "filter" not in static_text(app, "#partition-panel")


@pytest.mark.both_stores
async def test_a_filter_pages_in_the_engine_with_the_balance_of_every_row(engine: Engine) -> None:
    await post_many(engine, 150)  # ALICE credited 1.01, 1.02, ... 2.50
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        browse = await show_in_browse(app, pilot, ALICE)
        balances = column(app, "balance")
        await pilot.press("n")
        await settle(pilot)
        balances += column(app, "balance")
        assert len(balances) == 150
        panel = browse.query_one("#entries").parent
        assert panel is not None
        panel.set_filter(EntryFilter(low=Decimal("1.50")))  # type: ignore[attr-defined]
        await settle(pilot)
        assert column(app, "balance") == balances[49:149]
        await pilot.press("n")
        await settle(pilot)
        assert column(app, "balance") == balances[149:]
        await pilot.press("p")
        await settle(pilot)
        assert column(app, "balance") == balances[49:149]


async def test_opening_an_account_shows_its_months_and_month_keys_skip_empty_ones(engine: Engine) -> None:
    await post_sample(engine)  # the GBP fee account has entries in September and November only
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(month_range("2024-10"))
        browse.post_message(AccountTree.AccountChosen(FEES_GBP))
        await settle(pilot)
        assert app.screen.query_one("#range-from", Input).value == "2024-09-01"
        assert app.screen.query_one("#range-to", Input).value == "2024-12-01"
        assert "range 2024-09-01 → 2024-12-01 (end excluded)" in static_text(app, "#partition-panel")
        assert column(app, "description") == ["Card fee", "Account fee"]
        await pilot.press("e", "right_square_bracket")
        await settle(pilot)
        assert "bucket 2024-09" in static_text(app, "#partition-panel")
        await pilot.press("right_square_bracket")  # October has nothing: straight to November
        await settle(pilot)
        assert "bucket 2024-11" in static_text(app, "#partition-panel")
        assert column(app, "description") == ["Account fee"]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert any("No later month with entries" in n for n in notices(app))
        assert "bucket 2024-11" in static_text(app, "#partition-panel")
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "bucket 2024-09" in static_text(app, "#partition-panel")


async def test_export_writes_the_rows_on_screen_with_exact_amounts(engine: Engine, tmp_path: Path) -> None:
    await post_many(engine, 3)
    await post_sample(engine)
    app = make_app(engine, "browse")
    target = tmp_path / "alice.csv"
    async with app.run_test(size=SIZE) as pilot:
        browse = await show_in_browse(app, pilot, ALICE)
        browse.query_one("#entries").parent.set_filter(EntryFilter(side=Side.CREDIT))  # type: ignore[union-attr]
        await settle(pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["description"] for row in rows] == [
        "Alice deposit",
        "bulk 000",
        "bulk 001",
        "bulk 002",
        "Salary",
    ]
    assert [row["amount"] for row in rows] == [
        "1000.00",
        "1.01",
        "1.02",
        "1.03",
        "300.00",
    ]  # exact, ungrouped
    assert [row["balance"] for row in rows] == [
        "1000.00",
        "880.51",
        "881.53",
        "882.56",
        "1182.56",
    ]  # hidden fee too
    assert rows[1]["transaction_id"] == str(fixed_id(10_000))
    assert any(str(target) in n for n in notices(app))


@pytest.mark.both_stores
async def test_as_of_shows_what_the_ledger_showed_then_with_the_opening_from_balance(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_sample(engine)  # recorded at NOW
    later = NOW + timedelta(days=2)
    monkeypatch.setattr(engine, "_clock", lambda: later)
    legs = [
        Leg(OPS_GBP, Side.DEBIT, Decimal("5000.00"), "Late top-up", NOW - timedelta(days=60)),
        Leg(ALICE, Side.CREDIT, Decimal("5000.00"), "Late top-up", NOW - timedelta(days=60)),
    ]
    await engine.post(build_entry_set(fixed_id(77), legs))  # back-dated into September, recorded later
    balance_calls: list[tuple[TimeRange, object]] = []
    entry_ranges: list[TimeRange] = []
    real_balance, real_entries = engine.balance, engine.entries

    async def spy_balance(
        target: object, time_range: TimeRange = TimeRange(), as_of: object = None
    ) -> object:
        balance_calls.append((time_range, as_of))
        return await real_balance(target, time_range, as_of)  # type: ignore[arg-type]

    async def spy_entries(address: Address, time_range: TimeRange = TimeRange(), *args: object) -> object:
        entry_ranges.append(time_range)
        return await real_entries(address, time_range, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "balance", spy_balance)
    monkeypatch.setattr(engine, "entries", spy_entries)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await show_in_browse(app, pilot, ALICE, month_range("2024-10"))
        assert "opening 5,879.50" in static_text(app, "#partition-panel")
        as_of = app.screen.query_one("#range-as-of", Input)
        as_of.value = "2024-11-06"
        as_of.focus()
        await pilot.press("enter")
        await settle(pilot)
        panel = static_text(app, "#partition-panel")
        assert "as of 2024-11-06 00:00:00 UTC" in panel and "opening 879.50" in panel
        assert column(app, "balance") == ["1,179.50"]
        # The opening came from one balance read up to the range's start (blocks), never from
        # reading the earlier entries.
        assert balance_calls[-1] == (TimeRange(None, month_range("2024-10").start), as_of_value(as_of))
        assert set(entry_ranges) == {month_range("2024-10")}

        app.screen.query_one("#range-from", Input).value = "2024-09-01"
        await pilot.press("f", "enter")
        await settle(pilot)
        assert "Late top-up" not in column(app, "description")  # recorded after the as-of time


@pytest.mark.both_stores
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
        first = table_rows(app.screen, "#entries")
        assert len(first) == 100
        await pilot.press("e", "n")
        await settle(pilot)
        second = table_rows(app.screen, "#entries")
        assert len(second) == 30
        assert second[0][0] > first[-1][0]
        await pilot.press("p")
        await settle(pilot)
        assert table_rows(app.screen, "#entries") == first
        await pilot.press("n")
        await settle(pilot)
        assert table_rows(app.screen, "#entries") == second
        # the running balance carries across the page boundary (every row is a credit)
        assert Decimal(second[0][3]) == Decimal(first[-1][3]) + Decimal(second[0][2])
        assert second[-1][3] == "215.15"  # 130 x 1.00 + (0.01 + ... + 1.30)


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
        await show_alice(app, pilot)
        assert [title for title, _ in error_notices(app)] == ["Timed out"]
        assert app.screen.query_one("#entries", DataTable).loading is False
        assert descriptions(app) == []

        monkeypatch.setattr(engine, "entries", real_entries)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert descriptions(app) == ["Alice deposit", "Card fee", "Salary", "Account fee"]
