"""The Holds screen: open holds oldest first with the time left, capture (whole and in part) and
void after a yes, a refusal as a notice, the account filter, and its snapshots."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from textual.pilot import Pilot

from ledger_tui.app.holds.table import HoldsTable
from ledger_tui.domain.errors import NotFound
from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.engine import Engine

from ...support.console import (
    SIZE,
    SnapCompare,
    fixed_id,
    make_app,
    new_engine,
    settle,
    until,
)


def _table(pilot: Pilot[None]) -> HoldsTable:
    return pilot.app.screen.query_one(HoldsTable)


async def test_the_open_holds_show_oldest_first_with_the_time_left(held: Engine) -> None:
    app = make_app(held, "holds")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = _table(pilot)
        assert [h.hold_id for h in table.holds] == [fixed_id(501), fixed_id(502), fixed_id(503)]
        assert [str(table.get_row_at(n)[1]) for n in range(3)] == ["15m 0s", "2d 3h", "5h 0m"]
        assert "alice 40.00 GBP" in str(table.get_row_at(0)[2])


async def test_capture_asks_first_then_posts_the_held_legs(held: Engine) -> None:
    engine = held
    app = make_app(engine, "holds")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("n")  # kept: nothing happens
        await settle(pilot)
        assert len(_table(pilot).holds) == 3
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        await until(pilot, lambda: len(_table(pilot).holds) == 2)
        recorded = await engine.transaction(fixed_id(501))
        assert [leg.amount for leg in recorded.legs] == [Decimal("40.00")] * 2
        assert any("captured" in str(n.message) for n in app._notifications)


async def test_partial_capture_and_void_from_the_keys(held: Engine) -> None:
    engine = held
    app = make_app(engine, "holds")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        field = pilot.app.screen.query_one("Input")
        field.value = "15.25"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await until(pilot, lambda: len(_table(pilot).holds) == 2)
        recorded = await engine.transaction(fixed_id(501))
        assert [leg.amount for leg in recorded.legs] == [Decimal("15.25")] * 2
        await pilot.press("v", "y")  # carol's is now under the cursor
        await until(pilot, lambda: len(_table(pilot).holds) == 1)
        assert (await engine.holds().get(fixed_id(502))).outcome is HoldOutcome.VOIDED
        with pytest.raises(NotFound):
            await engine.transaction(fixed_id(502))
        await pilot.press("p")  # unequal legs: the CLI with a file, says the notice
        await settle(pilot)
        assert any("legs hold different amounts" in str(n.message) for n in app._notifications)


async def test_a_hold_settled_elsewhere_is_a_notice_not_a_crash(held: Engine) -> None:
    engine = held
    app = make_app(engine, "holds")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other = new_engine(Path(engine.info.target))
        await other.connect()
        await other.holds().void(fixed_id(501))
        await other.close()
        await pilot.press("c", "y")
        await settle(pilot)
        assert any("it was voided at" in str(n.message) for n in app._notifications)
        await until(pilot, lambda: fixed_id(501) not in {h.hold_id for h in _table(pilot).holds}, 8)


async def test_the_filter_keeps_holds_on_matching_accounts(held: Engine) -> None:
    app = make_app(held, "holds")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        pilot.app.screen.query_one("#holds-filter").value = "*/*/*/GBP/carol"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert [h.hold_id for h in _table(pilot).holds] == [fixed_id(502)]


def test_holds_screen(snap_compare: SnapCompare, held: Engine) -> None:
    assert snap_compare(make_app(held, "holds"), terminal_size=SIZE, run_before=settle)


def test_holds_capture_question(snap_compare: SnapCompare, held: Engine) -> None:
    async def ask(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("down", "c")
        await settle(pilot)

    assert snap_compare(make_app(held, "holds"), terminal_size=SIZE, run_before=ask)
