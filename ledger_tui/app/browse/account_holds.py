"""The holds of the account on show, apart from its entries: each hold's state and amount at this
account, and what is held beside the posted balance (available = balance - pending debits).

Why a panel of its own: a hold is not an entry (nothing is posted until it is captured), so it
never mixes into the entries' pages or their running balance; the panel hides for an account
that never had a hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from ...domain.address import AddressPattern
from ...domain.holds import Hold, HoldState, Pending
from ...domain.model import Address, Side
from ...domain.money import MONEY_CONTEXT, ZERO
from ...engine import Engine
from ..messages import CallFailed
from ..widgets.formatting import instant_text, money_text, plural, short_id

GROUP = "account-holds"
COLUMNS = ("Placed", "State", "Side", "Amount", "Until", "Hold")


@dataclass(frozen=True, slots=True)
class HeldAt:
    """What one account's holds stand at, at one instant (now, or the as-of time)."""

    address: Address
    instant: datetime
    holds: list[Hold]
    pending: Pending
    balance: Decimal

    @property
    def available(self) -> Decimal:
        """The balance less what holds keep pending as debits."""
        return MONEY_CONTEXT.subtract(self.balance, self.pending.debits)


def _at_account(hold: Hold, address: Address) -> tuple[str, Decimal]:
    """The side and amount a hold moves at ``address`` (net of its legs there)."""
    net = ZERO
    for leg in hold.transaction.legs:
        if leg.address == address:
            net = MONEY_CONTEXT.add(net, leg.amount if leg.side is Side.CREDIT else -leg.amount)
    return ("Cr" if net >= 0 else "Dr"), abs(net)


class AccountHolds(Vertical):
    """A summary line over a short table of the account's holds, newest first."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    class HoldsRead(Message, bubble=False):
        """The worker's answer for request ``number``."""

        def __init__(self, number: int, held: HeldAt) -> None:
            super().__init__()
            self.number = number
            self.held = held

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._engine = engine
        self._request = 0
        self._shown: tuple[Address, datetime | None] | None = None
        self.held: HeldAt | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="holds-summary")
        yield DataTable[Text](id="holds-rows", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        """Hidden until an account with holds shows; the columns, once."""
        self.display = False
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name.lower())

    def show(self, address: Address | None, as_of: datetime | None, *, again: bool = False) -> None:
        """Read the holds of ``address`` as they stood at ``as_of`` (None: now); nothing for no
        account. The same account and time are read again only when ``again``."""
        if address is None:
            self._shown, self.display = None, False
            return
        if not again and self._shown == (address, as_of):
            return
        self._shown = (address, as_of)
        self._request += 1
        self.read_holds(self._request, address, as_of)

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def read_holds(self, number: int, address: Address, as_of: datetime | None) -> None:
        """Every hold with a leg on the account, what it holds there, and its posted balance."""
        book = self._engine.holds()
        instant = as_of or book.now()
        holds = await book.all_holds(AddressPattern(*address.as_tuple()))
        pending, balance = Pending(), ZERO
        if any(hold.state_at(instant) is not None for hold in holds):  # else nothing to show
            pending = (await book.pending(address, as_of)).get(address, Pending())
            rows = await self._engine.balance(address, as_of=as_of)
            balance = rows[0].closing if rows else ZERO
        self.post_message(self.HoldsRead(number, HeldAt(address, instant, holds, pending, balance)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed read hides the panel; the screen shows the notice."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.display = False
            self.post_message(CallFailed(event.worker.group, event.worker.error))

    @on(HoldsRead)
    def draw(self, message: HoldsRead) -> None:
        """The summary and one row per hold placed by the instant read (hidden if none was)."""
        if message.number != self._request:
            return  # an answer for an account or time since replaced
        held = message.held
        placed = [hold for hold in held.holds if hold.state_at(held.instant) is not None]
        self.held = held
        self.display = bool(placed)
        if not placed:
            return
        currency = held.address.currency
        currencies = self._engine.currencies

        def money(amount: Decimal) -> str:
            return money_text(amount, currency, currencies)

        states = [hold.state_at(held.instant) for hold in placed]
        open_count = states.count(HoldState.PENDING)
        settled = ", ".join(
            f"{states.count(state)} {state.value}" for state in HoldState if state is not HoldState.PENDING
        )
        self.query_one("#holds-summary", Static).update(
            f"[b]holds[/b] {plural(open_count, 'pending', 'pending')} · held Dr {money(held.pending.debits)}"
            f" · Cr {money(held.pending.credits)} · balance {money(held.balance)}"
            f" · [b]available {money(held.available)}[/b] · settled: {settled}"
        )
        table = self.query_one(DataTable)
        table.clear()
        newest_first = sorted(zip(placed, states, strict=True), key=lambda p: p[0].transaction.recorded_at)
        for hold, state in reversed(newest_first):
            side, amount = _at_account(hold, held.address)
            until = hold.expires_at if state is HoldState.PENDING else (hold.outcome_at or hold.expires_at)
            table.add_row(
                Text(instant_text(hold.transaction.recorded_at)),
                Text(state.value if state else ""),
                Text(side),
                Text(money(amount), justify="right"),
                Text(instant_text(until)),
                Text(short_id(hold.hold_id)),
            )
