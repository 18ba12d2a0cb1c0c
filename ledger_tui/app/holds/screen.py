"""Holds: the money held pending, oldest first, with the time left to each expiry; capture it
(whole or, for a hold of equal legs, in part) or void it, after saying yes.

Why a screen of its own: an operator settling authorisations works down a queue, not an account.
Each hold gets one outcome whoever settles it first (another console, the API, expiry), so a
refused capture or void is a notice naming the outcome it already has.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label

from ...domain.address import AddressPattern, parse_pattern
from ...domain.changes import Change
from ...domain.errors import LedgerError
from ...domain.holds import Hold, time_left
from ...domain.model import EntrySet, Leg
from ...domain.money import parse_amount
from ...engine.holds import HoldReceipt
from ..failures import with_timeout
from ..ledger_screen import ConsoleContext, LedgerScreen
from ..messages import LedgerChanged
from ..widgets.dialogs import ConfirmDialog, PathPrompt
from .table import HoldsTable

#: Seconds between reads of the holds while the screen is shown (others place and settle them).
READ_EVERY = 5
#: Seconds between redraws of the time left.
TICK_SECONDS = 1.0


class HoldsScreen(LedgerScreen):
    """Account filter, the open holds, and what the keys do to the chosen one."""

    CSS_PATH = "screen.tcss"
    TITLE = "Holds"
    AUTO_FOCUS = "#holds-table"
    BINDINGS = [
        Binding("c", "capture", "Capture"),
        Binding("p", "partial", "Partial capture"),
        Binding("v", "void", "Void"),
        Binding("slash", "focus_filter", "Filter"),
    ]

    class HoldsRead(Message):
        """The open holds arrived (the screen's worker result), read at ``now``."""

        def __init__(self, holds: list[Hold], now: datetime) -> None:
            super().__init__()
            self.holds, self.now = holds, now

    class HoldSettled(Message):
        """A capture or void of this console was recorded (or had been: ``repeated``)."""

        def __init__(self, receipt: HoldReceipt) -> None:
            super().__init__()
            self.receipt = receipt

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self._pattern: AddressPattern | None = None
        self._holds: list[Hold] = []
        self._ticks = 0

    def compose(self) -> ComposeResult:
        """Header, filter, table, status, keys."""
        yield Header()
        with Vertical(id="holds-main"):
            yield Input(placeholder="account filter: LE/NS/NAME/CUR/ACCT, * for any part (enter)",
                        id="holds-filter")  # fmt: skip
            yield HoldsTable(id="holds-table")
            yield Label("", id="holds-status")
        yield Footer(compact=True)

    @property
    def _table(self) -> HoldsTable:
        return self.query_one(HoldsTable)

    def on_mount(self) -> None:
        """Redraw the time left every second (and read the holds again every few)."""
        super().on_mount()
        self.set_interval(TICK_SECONDS, self._tick)

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % READ_EVERY == 0 and self.is_current and self.store_is_ready:
            self._load()
        else:
            self._table.show(self._holds, self.engine.holds().now())
            self._show_status()

    # -- reading -------------------------------------------------------------------------------

    def store_ready(self) -> None:
        """Read the open holds."""
        self._load()

    def ledger_changed(self) -> None:
        """This console wrote: a capture or void may have settled one."""
        if self.store_is_ready:
            self._load()

    def sets_committed(self, changes: Sequence[Change]) -> None:
        """A capture elsewhere records a set under the hold's id: read again if one is shown."""
        shown = {hold.hold_id for hold in self._holds}
        if any(change.transaction.transaction_id in shown for change in changes):
            self.refresh_live(self._reload)

    def _reload(self) -> None:
        self._load()

    @work(exclusive=True, group="holds", exit_on_error=False)
    async def _load(self) -> None:
        book = self.engine.holds()
        holds = await with_timeout(book.pending_holds(self._pattern))
        self.post_message(self.HoldsRead(holds, book.now()))

    @on(HoldsRead)
    def _show(self, message: HoldsRead) -> None:
        self._holds = message.holds
        self._table.show(message.holds, message.now)
        self._show_status()

    def _show_status(self) -> None:
        count = len(self._table.holds)
        where = "" if self._pattern is None else f" on {self._pattern}"
        text = f"{count} hold{'s' if count != 1 else ''} pending{where} · oldest first"
        self.query_one("#holds-status", Label).update(text if count else f"no holds pending{where}")

    @on(Input.Submitted, "#holds-filter")
    def _filter(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            self._pattern = parse_pattern(text, "filter", any_level=True) if text else None
        except LedgerError as error:
            self.notify(str(error), title="Not an account pattern", severity="error")
            return
        self._table.focus()
        self._load()

    def action_focus_filter(self) -> None:
        """Move to the account filter."""
        self.query_one("#holds-filter", Input).focus()

    # -- settling ------------------------------------------------------------------------------

    def _chosen(self) -> Hold | None:
        hold = self._table.chosen
        if hold is None:
            self.notify("no hold is chosen", severity="warning")
        return hold

    def _facts(self, hold: Hold) -> str:
        legs = "\n".join(f"  {leg.side.value:6} {leg.amount} {leg.address}" for leg in hold.transaction.legs)
        return f"{legs}\nexpires in {time_left(hold, self.engine.holds().now())}"

    def action_capture(self) -> None:
        """Capture the chosen hold whole, after asking."""
        hold = self._chosen()
        if hold is not None:
            dialog = ConfirmDialog(f"Capture hold {hold.hold_id}?", self._facts(hold), "Capture", "Keep")
            self.app.push_screen(dialog, self._on_yes(hold.hold_id, "capture"))

    def action_void(self) -> None:
        """Void the chosen hold, after asking."""
        hold = self._chosen()
        if hold is not None:
            dialog = ConfirmDialog(f"Void hold {hold.hold_id}?", self._facts(hold), "Void", "Keep")
            self.app.push_screen(dialog, self._on_yes(hold.hold_id, "void"))

    def action_partial(self) -> None:
        """Capture part of the chosen hold: an amount at most the held one, on every leg."""
        hold = self._chosen()
        if hold is None:
            return
        amounts = {leg.amount for leg in hold.transaction.legs}
        if len(amounts) != 1:
            self.notify(f"its legs hold different amounts: use ledger-tui capture {hold.hold_id} FILE",
                        title="Partial capture", severity="warning")  # fmt: skip
            return
        held = amounts.pop()
        prompt = PathPrompt(f"Capture how much of {held} (the rest is released)?", str(held))
        self.app.push_screen(prompt, lambda text: self._confirm_partial(hold, held, text))

    def _confirm_partial(self, hold: Hold, held: Decimal, text: str | None) -> None:
        if text is None:
            return
        currency = hold.transaction.legs[0].address.currency
        try:
            amount = parse_amount(text.strip(), currency, self.engine.currencies)
        except ValueError as error:
            self.notify(f"{text!r} {error}", title="Not an amount", severity="error")
            return
        if amount > held:
            self.notify(f"{amount} is more than the {held} held", title="Too much", severity="error")
            return
        legs = tuple(Leg(leg.address, leg.side, amount, leg.description, leg.effective_at)
                     for leg in hold.transaction.legs)  # fmt: skip
        body = f"{self._facts(hold)}\ncapture {amount} of {held}; {held - amount} is released"
        dialog = ConfirmDialog(f"Capture part of hold {hold.hold_id}?", body, "Capture", "Keep")
        partial = EntrySet(hold.hold_id, legs)
        self.app.push_screen(dialog, self._on_yes(hold.hold_id, "capture", partial))

    def _on_yes(
        self, hold_id: uuid.UUID, action: str, partial: EntrySet | None = None
    ) -> Callable[[bool | None], None]:
        """What a yes to the question does: settle the hold (in a worker)."""

        def answered(yes: bool | None) -> None:
            if yes:
                self._settle(hold_id, action, partial)

        return answered

    @work(exclusive=True, group="holds-write", exit_on_error=False)
    async def _settle(self, hold_id: uuid.UUID, action: str, partial: EntrySet | None = None) -> None:
        book = self.engine.holds()
        call = book.capture(hold_id, partial) if action == "capture" else book.void(hold_id)
        self.post_message(self.HoldSettled(await with_timeout(call)))

    @on(HoldSettled)
    def _settled(self, message: HoldSettled) -> None:
        hold = message.receipt.hold
        outcome = hold.outcome.value if hold.outcome is not None else "settled"
        again = " (it already was)" if message.receipt.repeated else ""
        self.notify(f"hold {hold.hold_id} {outcome}{again}", title=f"Hold {outcome}")
        self.post_message(LedgerChanged(hold.hold_id))
