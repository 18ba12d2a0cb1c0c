"""Modal with every leg of one transaction; enter on a leg jumps the browser to its account.

It is also where a transaction is corrected: ``R`` asks (naming every leg it will post), posts
the reversal in a worker and shows the reversal's receipt in place; a transaction already
reversed is a notice naming the reversal, never a second post.
"""

from __future__ import annotations

import uuid

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from ...domain.model import Address, Entry, PostStatus, Receipt, RecordedTransaction
from ...domain.reversal import reversal_legs
from ...domain.timeutil import bucket_of
from ..failures import with_timeout
from ..ledger_screen import ConsoleContext
from ..messages import CallFailed, LedgerChanged
from ..widgets.dialogs import ConfirmDialog
from ..widgets.formatting import instant_text, money_text

LEG_COLUMNS = [
    ("#", "leg"),
    ("Account", "account"),
    ("Side", "side"),
    ("Amount", "amount"),
    ("Effective (UTC)", "effective"),
    ("Description", "description"),
]
#: What the detail returns: the leg's account and the bucket its effective time falls in.
Jump = tuple[Address, str]


class TransactionDetail(ModalScreen[Jump | None]):
    """Shows a transaction's legs, loaded in a worker; escape closes, enter jumps to a leg."""

    CSS_PATH = "transaction_detail.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("enter", "jump", "Go to leg's account"),
        Binding("c", "copy_id", "Copy transaction id"),
        Binding("R", "reverse", "Reverse (asks first)"),
    ]

    class TransactionLoaded(Message):
        """The transaction arrived from the store."""

        def __init__(self, transaction: RecordedTransaction) -> None:
            super().__init__()
            self.transaction = transaction

    class ReversalChecked(Message):
        """Looked for an earlier reversal of the transaction: ``existing`` is it, or None."""

        def __init__(self, existing: RecordedTransaction | None) -> None:
            super().__init__()
            self.existing = existing

    class ReversalPosted(Message):
        """The reversal was posted (or found already recorded): its receipt."""

        def __init__(self, receipt: Receipt) -> None:
            super().__init__()
            self.receipt = receipt

    def __init__(self, context: ConsoleContext, transaction_id: uuid.UUID) -> None:
        super().__init__()
        self._engine = context.engine
        self._transaction_id = transaction_id
        self._entries: list[Entry] = []
        self._transaction: RecordedTransaction | None = None
        self._reversing = False  # a check or post is under way (one at a time)

    def compose(self) -> ComposeResult:
        """Summary line and the legs table."""
        with Vertical(id="detail-box"):
            yield Static(f"Transaction {self._transaction_id}", id="detail-title")
            yield Static("loading…", id="detail-summary")
            table: DataTable[str | Text] = DataTable(id="detail-legs", cursor_type="row", zebra_stripes=True)
            for label, key in LEG_COLUMNS:
                table.add_column(label, key=key)
            yield table
            yield Static(
                "enter: go to the leg's account · c: copy the id · R: reverse · escape: close",
                id="detail-hint",
            )

    def on_mount(self) -> None:
        """Fetch the transaction."""
        self.query_one(DataTable).loading = True
        self.load_transaction()

    @work(exclusive=True, group="transaction", exit_on_error=False)
    async def load_transaction(self) -> None:
        """One engine call: the transaction with all its legs."""
        found = await with_timeout(self._engine.transaction(self._transaction_id))
        self.post_message(self.TransactionLoaded(found))

    def on_transaction_detail_transaction_loaded(self, message: TransactionLoaded) -> None:
        """Fill the table."""
        self._show(message.transaction)

    def _show(self, transaction: RecordedTransaction, title: str = "Transaction", note: str = "") -> None:
        currencies = self._engine.currencies
        self._transaction = transaction
        self._transaction_id = transaction.transaction_id
        self._entries = transaction.entries()
        self.query_one("#detail-title", Static).update(f"{title} {transaction.transaction_id}")
        self.query_one("#detail-summary", Static).update(
            f"recorded {instant_text(transaction.recorded_at)} UTC · {len(self._entries)} legs{note}"
        )
        table: DataTable[str | Text] = self.query_one(DataTable)
        table.loading = False
        table.clear()
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
            self.post_message(CallFailed(event.worker.group, event.worker.error))
            self._reversing = False
            if event.worker.group == "transaction":
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

    # -- reversing ---------------------------------------------------------------------------

    def action_reverse(self) -> None:
        """Look for an earlier reversal first; only a transaction not yet reversed is asked about."""
        if self._transaction is None or self._reversing:
            return
        self._reversing = True
        self.check_reversal(self._transaction.transaction_id)

    @work(exclusive=True, group="reverse", exit_on_error=False)
    async def check_reversal(self, transaction_id: uuid.UUID) -> None:
        """One engine read: the reversal recorded for this transaction, if any."""
        found = await with_timeout(self._engine.reversal_of(transaction_id))
        self.post_message(self.ReversalChecked(found))

    def on_transaction_detail_reversal_checked(self, message: ReversalChecked) -> None:
        """Already reversed: say by which set. Otherwise ask, naming every leg to be posted."""
        original = self._transaction
        if original is None:
            self._reversing = False
            return
        if message.existing is not None:
            self._reversing = False
            self.notify(
                f"{original.transaction_id} was reversed by {message.existing.transaction_id} "
                f"(recorded {instant_text(message.existing.recorded_at)} UTC); nothing posted.",
                title="Already reversed",
                severity="warning",
                timeout=8,
            )
            return
        self.app.push_screen(
            ConfirmDialog(
                "Reverse this transaction?",
                self._reversal_text(original),
                confirm="Post the reversal",
                decline="Cancel",
            ),
            self._confirmed,
        )

    def _reversal_text(self, original: RecordedTransaction) -> str:
        currencies = self._engine.currencies
        lines = [
            f"Posts a new entry set, effective now, that undoes {original.transaction_id}:",
            "",
        ]
        for leg in reversal_legs(original):
            amount = money_text(leg.amount, leg.address.currency, currencies)
            lines.append(f"  {leg.side.value:<6} {amount:>14} {leg.address.currency}  {leg.address}")
        lines += ["", "The original stays as it is (the ledger is append-only)."]
        return "\n".join(lines)

    def _confirmed(self, answer: bool | None) -> None:
        if not answer or self._transaction is None:
            self._reversing = False
            return
        self.post_reversal(self._transaction.transaction_id)

    @work(exclusive=True, group="reverse", exit_on_error=False)
    async def post_reversal(self, transaction_id: uuid.UUID) -> None:
        """Post the mirror image (the engine derives its id, so a repeat is a duplicate)."""
        receipt = await with_timeout(self._engine.reverse(transaction_id))
        self.post_message(self.ReversalPosted(receipt))

    def on_transaction_detail_reversal_posted(self, message: ReversalPosted) -> None:
        """Show the reversal's receipt in place of the original, and let the screens refresh."""
        self._reversing = False
        receipt = message.receipt
        original = self._transaction_id
        if receipt.status is PostStatus.DUPLICATE:
            self.notify(
                f"{original} was already reversed by {receipt.transaction_id}; nothing posted.",
                title="Already reversed",
                severity="warning",
                timeout=8,
            )
        else:
            self.notify(f"Reversal {receipt.transaction_id} posted", title="Reversed", timeout=6)
            self.post_message(LedgerChanged(receipt.transaction_id))
        self._show(receipt.transaction, "Reversal", f" · reverses {original}")

    def action_close(self) -> None:
        """Close without jumping."""
        self.dismiss(None)
