"""The holds panel under browse's entries: an account's holds apart from its entries, its available
balance beside the posted one, what was held at an as-of time, and hidden where nothing was held."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from textual.pilot import Pilot
from textual.widgets import Input

from ledger_tui.app.browse.account_holds import AccountHolds
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.domain.holds import Pending
from ledger_tui.domain.model import Address
from ledger_tui.engine import Engine

from ...support.console import ALICE, BRUNO, NOW, OPS_GBP, SIZE, fixed_id, make_app, settle, until


def _panel(pilot: Pilot[None]) -> AccountHolds:
    return pilot.app.screen.query_one(AccountHolds)


async def _show(pilot: Pilot[None], address: Address) -> AccountHolds:
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    screen.show_account(address)
    await settle(pilot)
    return _panel(pilot)


async def test_an_account_shows_its_holds_and_available_beside_the_balance(held: Engine) -> None:
    app = make_app(held, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = await _show(pilot, ALICE)
        await until(pilot, lambda: panel.held is not None and panel.held.address == ALICE)
        assert panel.display and panel.held is not None
        balance = (await held.balance(ALICE))[0].closing
        pending = (await held.holds().pending(ALICE))[ALICE]  # the slow path: a fold of the holds
        assert (panel.held.balance, panel.held.pending) == (balance, pending)
        assert panel.held.available == balance - Decimal("49.00")  # 40.00 and 9.00 held as debits
        rows = panel.query_one("#holds-rows")
        assert rows.row_count == 2  # type: ignore[attr-defined]
        summary = str(panel.query_one("#holds-summary").render())
        assert "2 pending" in summary and "available" in summary

        await held.holds().capture(fixed_id(501))  # settled elsewhere: a refresh shows it
        await pilot.press("r")
        await until(pilot, lambda: panel.held is not None and panel.held.pending.debits == Decimal("9.00"))
        assert "1 captured" in str(panel.query_one("#holds-summary").render())


async def test_as_of_before_the_holds_and_an_account_without_any_hide_the_panel(held: Engine) -> None:
    app = make_app(held, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = await _show(pilot, OPS_GBP)
        await until(pilot, lambda: panel.held is not None)
        assert panel.display and panel.held is not None and panel.held.pending.credits == Decimal("60.50")
        before = (NOW - timedelta(seconds=1)).isoformat()
        await pilot.press("f")
        pilot.app.screen.query_one("#range-as-of", Input).value = before
        await pilot.press("enter")
        await until(pilot, lambda: panel.held is not None and panel.held.instant < NOW)
        assert not panel.display and panel.held.pending == Pending()
        await _show(pilot, BRUNO)  # never held anything
        await until(pilot, lambda: panel.held is not None and panel.held.address == BRUNO)
        assert not panel.display
