"""The trial balance takes in sets another process commits, re-reading at most once a second."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.trial_balance.table import TrialBalanceTable
from ledger_tui.domain.trial_balance import TrialLine
from ledger_tui.engine import Engine

from ...support.console import ALICE, FAST_LIVE, OPS_GBP, SIZE, commit_elsewhere, make_app, settle, until

ON_THE_4TH = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
CUSTOMERS_GBP = ("fintech_uk", "com.fintech.customer", "current", "GBP")


def line(app: LedgerApp, path: tuple[str, ...]) -> TrialLine:
    [found] = [line for line in app.screen.query_one(TrialBalanceTable)._lines if line.path == path]
    return found


async def test_a_set_committed_elsewhere_shows_in_the_trial_balance(
    shared_ledger: tuple[Engine, Engine],
) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "trial", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert line(app, CUSTOMERS_GBP).credits == Decimal(0)
        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await until(pilot, lambda: line(app, CUSTOMERS_GBP).credits == Decimal("25.00"))
        assert not app.screen.query_one(TrialBalanceTable).loading  # read again without the spinner


async def test_a_burst_of_sets_reads_the_trial_balance_at_most_once_a_second(
    shared_ledger: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    console, elsewhere = shared_ledger
    reads: list[float] = []
    real = console.trial_balance

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(asyncio.get_running_loop().time())
        return await real(*args, **kwargs)

    monkeypatch.setattr(console, "trial_balance", counted)
    app = make_app(console, "trial", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        reads.clear()
        started = asyncio.get_running_loop().time()
        for number in range(5):  # each read by the follower on its own (it polls every 50 ms)
            await commit_elsewhere(elsewhere, 700 + number, OPS_GBP, ALICE, "1.00", "burst", ON_THE_4TH)
            await pilot.pause(0.12)
        burst = asyncio.get_running_loop().time() - started  # about 0.6 s on an idle machine
        await until(pilot, lambda: line(app, CUSTOMERS_GBP).credits == Decimal("5.00"))
        assert 1 <= len(reads) <= 2 + int(burst), reads
        # A second apart (less a little: the timer fires on time, the read's worker starts a bit later).
        assert all(later - earlier >= 0.8 for earlier, later in pairwise(reads)), reads
