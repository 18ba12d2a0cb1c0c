"""SVG snapshots of every screen state that matters, on a fixed ledger, clock and terminal size."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.timeutil import month_range
from ledger_tui.engine import Engine
from ledger_tui.store.sqlite import SqliteStore

from ..support.console import ALICE, NOW, make_app, make_ledger, new_engine, settle

SIZE = (120, 40)
SnapCompare = Callable[..., bool]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine (not connected: the app connects it) over a ledger holding the fixed data."""
    engine = new_engine(make_ledger(tmp_path / "ledger.sqlite"))
    yield engine
    asyncio.run(engine.close())


@pytest.fixture
def empty_ledger(tmp_path: Path) -> Iterator[Engine]:
    """An engine over a ledger with the schema and no entries."""
    engine = new_engine(make_ledger(tmp_path / "empty.sqlite", data=False))
    yield engine
    asyncio.run(engine.close())


def _leg(
    address: tuple[str, str, str, str, str], side: str, amount: str, description: str = "", when: str = ""
) -> LegDraft:
    return LegDraft(*address, side=side, amount=amount, description=description, effective=when)


BALANCED = [
    _leg(
        ("fintech_uk", "com.fintech.account", "main", "GBP", "ops"), "debit", "150.00", "Top-up", "2024-11-02"
    ),
    _leg(("fintech_uk", "com.fintech.customer", "current", "GBP", "alice"), "credit", "150.00", "Top-up"),
]
UNBALANCED = [
    _leg(("fintech_uk", "com.fintech.account", "main", "GBP", "ops"), "debit", "150.00", "Top-up"),
    _leg(("fintech_uk", "com.fintech.customer", "current", "GBP", "alice"), "credit", "130.00", "Top-up"),
    _leg(("fintech_uk", "com.fintech.customer", "current", "GBP", "bob"), "credit", "12.345", "Too precise"),
    _leg(("fintech_uk", "com.fintech/customer", "current", "XYZ", "carol"), "credit", "ten", "Bad fields"),
]


def _compose(drafts: list[LegDraft], post: bool = False) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ComposeScreen)
        await screen.set_draft(drafts)
        if post:
            await pilot.press("ctrl+s")
        await settle(pilot)

    return run_before


def test_compose_empty(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=settle)


def test_compose_balanced(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(BALANCED))


def test_compose_unbalanced_with_field_errors(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(UNBALANCED))


def test_compose_receipt(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(BALANCED, post=True))


TREE_TO_BRUNO = ["down", "enter", "down", "down", "enter", "down", "enter", "down", "enter"]
TREE_TO_BRUNO += ["down", "enter", "down", "down", "down", "enter"]


async def _browse_bruno(pilot: Pilot[None]) -> None:
    await settle(pilot)
    for key in TREE_TO_BRUNO:
        await pilot.press(key)
        await settle(pilot, rounds=2)
    await pilot.press("e")
    await settle(pilot)


def test_browse_page_of_entries(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=_browse_bruno)


def test_browse_transaction_detail(snap_compare: SnapCompare, ledger: Engine) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _browse_bruno(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


def test_browse_empty_ledger(snap_compare: SnapCompare, empty_ledger: Engine) -> None:
    assert snap_compare(make_app(empty_ledger, "browse"), terminal_size=SIZE, run_before=settle)


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


def test_chart_two_currencies(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(named="customer-facing-balance-all")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SIZE, run_before=run_before)


def test_chart_no_data(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(address="fintech_us/com.fintech.customer/current/USD/*")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: SnapCompare, ledger: Engine) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


class UnreachableStore(SqliteStore):
    """A store whose node never answers: connect raises StoreUnavailable like a down Cassandra."""

    async def connect(self) -> None:
        raise StoreUnavailable("no answer from 127.0.0.1:9042 (connection refused)")


def test_store_unavailable_notice(snap_compare: SnapCompare, tmp_path: Path) -> None:
    engine = Engine(UnreachableStore(tmp_path / "never.sqlite"), clock=lambda: NOW)
    app: LedgerApp = make_app(engine, "browse")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
    assert app.connection == "unavailable"


def test_browse_month_keys_keep_working_after_jump(snap_compare: SnapCompare, ledger: Engine) -> None:
    """A bucket reached through the API and then moved one month back with '['."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, BrowseScreen)
        screen.set_range(month_range("2024-10"))
        screen.show_entries(ALICE)
        await settle(pilot)
        screen.query_one("#entries").focus()
        await pilot.press("left_square_bracket")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


SMALL = (80, 24)  # the smallest terminal the console is laid out for


def test_compose_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Narrow: side and amount move to the second row; every address part stays readable."""
    assert snap_compare(make_app(ledger), terminal_size=SMALL, run_before=_compose(BALANCED))


def test_browse_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Narrow: a slimmer tree leaves the entries their amount, balance and description."""
    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=_browse_bruno)


def test_transaction_detail_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """The transaction modal fits the screen instead of running off it."""

    async def run_before(pilot: Pilot[None]) -> None:
        await _browse_bruno(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SMALL, run_before=run_before)


def test_chart_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    run_before = _chart(named="customer-facing-balance-all")
    assert snap_compare(make_app(ledger, "chart"), terminal_size=SMALL, run_before=run_before)


def test_new_account_confirmation(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Posting to an address the ledger has never seen asks first, listing the new accounts."""
    typo = [
        BALANCED[0],
        LegDraft(*("fintech_uk", "com.fintech.cu", "current", "GBP", "alice"), "credit", "150.00"),
    ]
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(typo, post=True))
