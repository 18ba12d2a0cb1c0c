"""Snapshots of issue 13's account finder and trial balance, on the fixed ledger and clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ledger_tui.engine import Engine

from ..support.console import make_app, make_ledger, new_engine, settle

SIZE = (120, 40)
SnapCompare = Callable[..., bool]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine (not connected: the app connects it) over a ledger holding the fixed data."""
    engine = new_engine(make_ledger(tmp_path / "ledger.sqlite"))
    yield engine
    asyncio.run(engine.close())


def _keys(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_trial_balance_by_currency(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "trial"), terminal_size=SIZE, run_before=settle)


def test_trial_balance_accounts(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "trial"), terminal_size=SIZE, run_before=_keys("plus"))


def test_trial_balance_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "trial"), terminal_size=(80, 24), run_before=_keys("plus"))


def test_account_finder(snap_compare: SnapCompare, ledger: Engine) -> None:
    keys = ["ctrl+f", *"fintech GBP"]
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=_keys(*keys))
