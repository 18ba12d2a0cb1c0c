"""Snapshots of the chart and compose states issue 13 added, most at 80x24 (the smallest terminal
the console is laid out for): every one must be readable there, nothing cut that matters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.engine import Engine

from ..support.console import make_app, make_ledger, new_engine, settle

SMALL = (80, 24)
WIDE = (120, 40)
SnapCompare = Callable[..., bool]
OPS = ("fintech_uk", "com.fintech.account", "main", "GBP", "ops")
ALICE = ("fintech_uk", "com.fintech.customer", "current", "GBP", "alice")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine (not connected: the app connects it) over a ledger holding the fixed data."""
    engine = new_engine(make_ledger(tmp_path / "ledger.sqlite"))
    yield engine
    asyncio.run(engine.close())


def _chart(address: str = "", as_of: str = "", named: str = "", keys: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ChartScreen)
        if named:
            screen.query_one("#chart-named").value = named  # type: ignore[attr-defined]
        screen.query_one("#chart-address", Input).value = address
        screen.query_one("#chart-as-of", Input).value = as_of
        if address:
            screen.action_draw()
        await settle(pilot)
        screen.query_one("#chart-table").focus()
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def _compose(drafts: list[LegDraft], post: bool = False) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ComposeScreen)
        await screen.set_draft(drafts)
        if post:
            await pilot.press("ctrl+s")
        await settle(pilot)

    return run_before


def test_chart_every_currency_on_one_axis(snap_compare: SnapCompare, ledger: Engine) -> None:
    """c after the default (one currency of two): both on one axis, the status says so."""
    run_before = _chart(named="customer-facing-balance-all", keys=("c",))
    assert snap_compare(make_app(ledger, "chart"), terminal_size=WIDE, run_before=run_before)


def test_chart_wildcard_as_of_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """* above the account, an as-of time: the status line wraps rather than cuts."""
    run_before = _chart(address="*/com.fintech.customer/*/*/*", as_of="2024-11-05T09:30:00Z")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SMALL, run_before=run_before)


def test_chart_explained_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(keys=("e",))
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SMALL, run_before=run_before)


def test_compose_field_errors_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """A misplaced thousands separator is named on its leg; 1,000.50 is accepted."""
    drafts = [
        LegDraft(*OPS, side="debit", amount="1,000.50", description="Top-up"),
        LegDraft(*ALICE, side="credit", amount="1,00.5", description="Top-up"),
    ]
    assert snap_compare(make_app(ledger), terminal_size=SMALL, run_before=_compose(drafts))


def test_new_account_confirmation_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    typo = ("fintech_uk", "com.fintech.cu", "current", "GBP", "alice")
    drafts = [
        LegDraft(*OPS, side="debit", amount="150.00", description="Top-up"),
        LegDraft(*typo, side="credit", amount="150.00", description="Top-up"),
    ]
    assert snap_compare(make_app(ledger), terminal_size=SMALL, run_before=_compose(drafts, post=True))
