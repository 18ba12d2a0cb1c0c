"""Snapshots of the chart: two currencies, no data, every currency on one axis, a wildcard as of a time, the explanation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.engine import Engine

from ...support.console import SIZE, SMALL, SnapCompare, make_app, settle


def _chart(named: str | None = None, address: str | None = None) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ChartScreen)
        if named is not None:
            screen.query_one("#chart-named").value = named  # type: ignore[attr-defined]
        if address is not None:
            screen.query_one("#chart-address").value = address  # type: ignore[attr-defined]
            screen.action_draw()
        await settle(pilot)

    return run_before


def _chart_then(address: str = "", as_of: str = "", named: str = "", keys: tuple[str, ...] = ()) -> Any:
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


def test_chart_two_currencies(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(named="customer-facing-balance-all")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SIZE, run_before=run_before)


def test_chart_no_data(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(address="fintech_us/com.fintech.customer/current/USD/*")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SIZE, run_before=run_before)


def test_chart_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(named="customer-facing-balance-all")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SMALL, run_before=run_before)


def test_chart_every_currency_on_one_axis(snap_compare: SnapCompare, ledger: Engine) -> None:
    """c after the default (one currency of two): both on one axis, the status says so."""
    run_before = _chart_then(named="customer-facing-balance-all", keys=("c",))
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SIZE, run_before=run_before)


def test_chart_wildcard_as_of_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """* above the account, an as-of time: the status line wraps rather than cuts."""
    run_before = _chart_then(address="*/com.fintech.customer/*/*/*", as_of="2024-11-05T09:30:00Z")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SMALL, run_before=run_before)


def test_chart_explained_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart_then(keys=("e",))
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SMALL, run_before=run_before)
