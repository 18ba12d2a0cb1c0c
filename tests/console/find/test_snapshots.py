"""Snapshot of the account finder."""

from __future__ import annotations

from ledger_tui.engine import Engine

from ...support.console import SIZE, SnapCompare, make_app, press_keys


def test_account_finder(snap_compare: SnapCompare, ledger: Engine) -> None:
    keys = ["ctrl+f", *"fintech GBP"]
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=press_keys(*keys))
