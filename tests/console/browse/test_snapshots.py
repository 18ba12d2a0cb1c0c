"""Snapshots of browse: pages, an account over its months, filters, as-of, a transaction and its reversal, export, at 120x40 and 80x24."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.app.ledger_screen import console_context
from ledger_tui.domain.timeutil import month_range
from ledger_tui.engine import Engine

from ...support.console import ALICE, SIZE, SMALL, SnapCompare, fixed_id, make_app, settle

TREE_TO_BRUNO = ["down", "enter", "down", "down", "enter", "down", "enter", "down", "enter"]
TREE_TO_BRUNO += ["down", "enter", "down", "down", "down", "enter"]


async def _browse_bruno(pilot: Pilot[None]) -> None:
    await settle(pilot)
    for key in TREE_TO_BRUNO:
        await pilot.press(key)
        await settle(pilot, rounds=2)
    await pilot.press("e")
    await settle(pilot)


#: Down the tree to alice's account (GBP customer) and open it: the range resets to her months.
TREE_TO_ALICE = ["down", "down", "enter", "down", "down", "enter", "down", "enter", "down", "enter"]
TREE_TO_ALICE += ["down", "enter"]


async def _alice(pilot: Pilot[None]) -> None:
    await settle(pilot)
    for key in TREE_TO_ALICE:
        await pilot.press(key)
        await settle(pilot, rounds=2)
    await pilot.press("e")
    await settle(pilot)


def _then(*keys: str, fields: dict[str, str] | None = None) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await _alice(pilot)
        for key in keys:
            if key == "fill":
                for selector, value in (fields or {}).items():
                    pilot.app.screen.query_one(selector, Input).value = value
                continue
            await pilot.press(key)
            await settle(pilot)

    return run_before


def _detail(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.push_screen(TransactionDetail(console_context(pilot.app), fixed_id(2)))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_browse_page_of_entries(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=_browse_bruno)


def test_browse_transaction_detail(snap_compare: SnapCompare, ledger: Engine) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _browse_bruno(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


def test_browse_empty_ledger(snap_compare: SnapCompare, empty_ledger: Engine) -> None:
    assert snap_compare(make_app(empty_ledger, "browse"), terminal_size=SIZE, run_before=settle)


def test_browse_month_keys_keep_working_after_jump(snap_compare: SnapCompare, ledger: Engine) -> None:
    """A bucket reached through the API and then moved one month back with '['."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, BrowseScreen)
        screen.set_range(month_range("2024-10"))
        screen.show_entries(ALICE)
        await settle(pilot)
        screen.query_one("#entries").focus()
        await pilot.press("left_square_bracket")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


def test_browse_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Narrow: a slimmer tree leaves the entries their amount, balance and description."""
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=_browse_bruno)


def test_transaction_detail_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """The transaction modal fits the screen instead of running off it."""

    async def run_before(pilot: Pilot[None]) -> None:
        await _browse_bruno(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=run_before)


def test_browse_account_opened_over_its_months(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Choosing an account shows it from its first to its last month, the end marked excluded."""
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=_then())


def test_browse_account_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Narrow: the range bar (From, Before, As of) and the panel readable; ids short in the table."""
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=_then())


def test_browse_filter_dialog(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _then("slash", "fill", fields={"#filter-text": "fee", "#filter-low": "50"})
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


def test_browse_filter_active_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """The active filter is named in the panel; Balance stays the account's."""
    run_before = _then("slash", "fill", "enter", fields={"#filter-text": "fee"})
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=run_before)


def test_browse_as_of(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _then("f", "fill", "enter", fields={"#range-as-of": "2024-11-06T00:00:00Z"})
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


def test_reversal_confirmation_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """R in the detail names every leg the reversal will post before anything is written."""
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=_detail("R"))


def test_reversal_receipt(snap_compare: SnapCompare, ledger: Engine) -> None:
    """After y: the reversal's id and legs, in place of the original's."""
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=_detail("R", "y"))


def test_export_dialog_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """ctrl+e asks where to export the rows on screen (.csv or .json), naming how many there are."""
    fill = {"#prompt-path": "/exports/alice-entries.csv"}  # the default holds today's time stamp
    assert snap_compare(
        make_app(ledger, "browse"), terminal_size=SMALL, run_before=_then("ctrl+e", "fill", fields=fill)
    )


def test_browse_an_account_with_holds_shows_them_apart_with_the_available(
    snap_compare: SnapCompare, held: Engine
) -> None:
    assert snap_compare(make_app(held, "browse"), terminal_size=SIZE, run_before=_alice)
