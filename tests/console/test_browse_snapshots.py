"""SVG snapshots of browse's states from issue 13 and issue 9's as-of, at 120x40 and 80x24."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.app.ledger_screen import console_context
from ledger_tui.engine import Engine

from ..support.console import fixed_id, make_app, make_ledger, new_engine, settle

SIZE = (120, 40)
SMALL = (80, 24)
SnapCompare = Callable[..., bool]
#: Down the tree to alice's account (GBP customer) and open it: the range resets to her months.
TREE_TO_ALICE = ["down", "down", "enter", "down", "down", "enter", "down", "enter", "down", "enter"]
TREE_TO_ALICE += ["down", "enter"]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine (not connected: the app connects it) over a ledger holding the fixed data."""
    engine = new_engine(make_ledger(tmp_path / "ledger.sqlite"))
    yield engine
    asyncio.run(engine.close())


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


def _detail(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.push_screen(TransactionDetail(console_context(pilot.app), fixed_id(2)))
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


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
