"""Snapshots of the trial balance: by currency, per account, at 80x24."""

from __future__ import annotations

from ledger_tui.engine import Engine

from ...support.console import SIZE, SnapCompare, make_app, press_keys, settle


def test_trial_balance_by_currency(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "trial"), terminal_size=SIZE, run_before=settle)


def test_trial_balance_accounts(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "trial"), terminal_size=SIZE, run_before=press_keys("plus"))


def test_trial_balance_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "trial"), terminal_size=(80, 24), run_before=press_keys("plus"))


def test_trial_balance_with_holds_shows_the_pending_columns(snap_compare: SnapCompare, held: Engine) -> None:
    assert snap_compare(make_app(held, "trial"), terminal_size=SIZE, run_before=press_keys("plus"))
