"""The chart redraws for sets another process commits on the accounts it charts, and only those."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.engine import Engine

from ...support.console import (
    ALICE,
    BRUNO,
    FAST_LIVE,
    OPS_EUR,
    OPS_GBP,
    SIZE,
    chart_closings,
    commit_elsewhere,
    make_app,
    settle,
    until,
)

ON_THE_4TH = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


async def test_the_chart_redraws_for_sets_on_its_accounts(
    shared_ledger: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    console, elsewhere = shared_ledger
    reads: list[object] = []
    real = console.balance_series

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[0])
        return await real(*args, **kwargs)

    monkeypatch.setattr(console, "balance_series", counted)
    app = make_app(console, "chart", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChartScreen)
        assert reads == ["customer-facing-balance"]  # the preselected named balance: GBP customers
        before = await chart_closings(app)
        assert before[-1] == "1,104.25"

        await commit_elsewhere(elsewhere, 700, OPS_EUR, BRUNO, "9.00", "Not charted", ON_THE_4TH)
        await pilot.pause(0.5)
        assert len(reads) == 1  # EUR customers are not in the chart

        await commit_elsewhere(elsewhere, 701, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await until(pilot, lambda: len(reads) == 2)
        await settle(pilot)
        assert (await chart_closings(app))[-1] == "1,129.25"
