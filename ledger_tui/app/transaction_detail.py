"""Modal with every leg of one transaction; enter on a leg jumps the browser to its account."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from ..domain.model import Address, Entry, RecordedTransaction
from ..domain.timeutil import bucket_of
from .failures import with_timeout
from .formatting import instant_text, money_text

if TYPE_CHECKING:
    from .app import LedgerApp

#: What the detail returns: the leg's account and the bucket its effective time falls in.
Jump = tuple[Address, str]


class TransactionDetail(ModalScreen[Jump | None]):
    """Shows a transaction's legs, loaded in a worker; escape closes, enter jumps to a leg."""

    CSS_PATH = "transaction_detail.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("enter", "jump", "Go to leg's account"),
        Binding("c", "copy_id", "Copy transaction id"),
    ]

    class TransactionLoaded(Message):
        """The transaction arrived from the store."""

        def __init__(self, transaction: RecordedTransaction) -> None:
            super().__init__()
            self.transaction = transaction

    def __init__(self, transaction_id: uuid.UUID) -> None:
        super().__init__()
        self._transaction_id = transaction_id
        self._entries: list[Entry] = []

    @property
    def ledger_app(self) -> LedgerApp:
        """The app, typed."""
        return cast("LedgerApp", self.app)

    def compose(self) -> ComposeResult:
        """Summary line and the legs table."""
        with Vertical(id="detail-box"):
            yield Static(f"Transaction {self._transaction_id}", id="detail-title")
            yield Static("loading…", id="detail-summary")
            table: DataTable[str | Text] = DataTable(id="detail-legs", cursor_type="row", zebra_stripes=True)
            table.add_columns("#", "Account", "Side", "Amount", "Effective (UTC)", "Description")
            yield table
            yield Static("enter: go to the leg's account · c: copy the id · escape: close", id="detail-hint")

    def on_mount(self) -> None:
        """Fetch the transaction."""
        self.query_one(DataTable).loading = True
        self.load_transaction()

    @work(exclusive=True, group="transaction", exit_on_error=False)
    async def load_transaction(self) -> None:
        """One engine call: the transaction with all its legs."""
        found = await with_timeout(self.ledger_app.engine.transaction(self._transaction_id))
        self.post_message(self.TransactionLoaded(found))

    def on_transaction_detail_transaction_loaded(self, message: TransactionLoaded) -> None:
        """Fill the table."""
        transaction = message.transaction
        currencies = self.ledger_app.engine.currencies
        self._entries = transaction.entries()
        self.query_one("#detail-summary", Static).update(
            f"recorded {instant_text(transaction.recorded_at)} UTC · {len(self._entries)} legs"
        )
        table: DataTable[str | Text] = self.query_one(DataTable)
        table.loading = False
        for entry in self._entries:
            table.add_row(
                str(entry.leg_index),
                str(entry.address),
                entry.side.value,
                Text(money_text(entry.amount, entry.address.currency, currencies), justify="right"),
                instant_text(entry.effective_at),
                entry.description,
            )
        table.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report a failed load and say so in the modal."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.ledger_app.report_failure(event.worker.error)
            self.query_one(DataTable).loading = False
            self.query_one("#detail-summary", Static).update("could not load this transaction")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a leg: jump to it."""
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        """Close and hand the browser the leg's account and bucket."""
        table: DataTable[str | Text] = self.query_one(DataTable)
        if not self._entries or not 0 <= table.cursor_row < len(self._entries):
            return
        entry = self._entries[table.cursor_row]
        self.dismiss((entry.address, bucket_of(entry.effective_at)))

    def action_copy_id(self) -> None:
        """Put the whole transaction id on the clipboard (tables cut it; terminals may not select it)."""
        self.app.copy_to_clipboard(str(self._transaction_id))
        self.notify(f"Copied transaction id {self._transaction_id}", timeout=4)

    def action_close(self) -> None:
        """Close without jumping."""
        self.dismiss(None)
