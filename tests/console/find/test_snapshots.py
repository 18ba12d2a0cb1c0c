"""Snapshot of the account finder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from ledger_tui.engine import Engine

from ...support.console import SIZE, SnapCompare, make_app, settle


def _keys(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_account_finder(snap_compare: SnapCompare, ledger: Engine) -> None:
    keys = ["ctrl+f", *"fintech GBP"]
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=_keys(*keys))
