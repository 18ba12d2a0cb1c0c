"""Posting a composed entry set: the new-account question, the engine call and the receipt line.

Why a widget of its own: the post's state (in flight, accounts already agreed to, the outcome)
lives where it is shown, and the compose screen hears only that a set was posted. Whether an
address exists is asked of the ledger when ctrl+s is pressed, never while typing, so a
mistyped account is caught without slowing a keystroke.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ...domain.errors import ConflictingResubmission
from ...domain.model import EntrySet, Receipt
from ...engine import Engine
from ..failures import describe_failure, with_timeout
from ..messages import CallFailed
from ..widgets.dialogs import ConfirmDialog
from ..widgets.formatting import instant_text

#: At most this many new addresses are listed in the question (the rest are counted).
LISTED_NEW = 8
GROUP = "post"


def new_accounts_question(new: Sequence[str]) -> ConfirmDialog:
    """The question asked before a post creates accounts the ledger has never seen."""
    listed = "\n".join(f"  {address}" for address in new[:LISTED_NEW])
    more = f"\n  … and {len(new) - LISTED_NEW} more" if len(new) > LISTED_NEW else ""
    return ConfirmDialog(
        "Post to accounts that do not exist yet?",
        f"These accounts have no entries; posting creates them:\n{listed}{more}\n"
        "A mistyped address would become a new account.",
        confirm="Post",
        decline="Check the address",
    )


class PostReceipt(Static):
    """Posts one entry set at a time and shows how it ended: a receipt, or why it is not confirmed."""

    class EntrySetPosted(Message):
        """The ledger recorded the set (or recognised it as a duplicate): its ``receipt``, shown
        once the screen calls ``show_posted``."""

        def __init__(self, receipt: Receipt) -> None:
            super().__init__()
            self.receipt = receipt

    class NewAccountsFound(Message, bubble=False):
        """The ledger was asked which of the set's accounts exist; ``new`` lists those that do not."""

        def __init__(self, entry_set: EntrySet, new: list[str]) -> None:
            super().__init__()
            self.entry_set = entry_set
            self.new = new

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._engine = engine
        self._posting: EntrySet | None = None
        self._confirmed_new: set[str] = set()  # new accounts the operator agreed to create

    @property
    def is_posting(self) -> bool:
        """Whether a post (or its question) is under way."""
        return self._posting is not None

    @property
    def failed(self) -> bool:
        """Whether the last post ended without a confirmation (ctrl+r posts it again)."""
        return self.has_class("-failed")

    def clear(self) -> None:
        """A new draft: no receipt, and no new account agreed to yet."""
        self._confirmed_new.clear()
        self._show("", loading=False)

    def post(self, entry_set: EntrySet) -> None:
        """Check the set's accounts, ask about new ones, then post (the id makes a repeat a duplicate)."""
        self._posting = entry_set
        self._show(f"Checking the accounts of {entry_set.transaction_id}…", loading=True)
        self.find_new_accounts(entry_set)

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def find_new_accounts(self, entry_set: EntrySet) -> None:
        """Ask the ledger which of the set's accounts exist (one read per 4-part parent)."""
        addresses = sorted({leg.address for leg in entry_set.legs})
        parents = sorted({address.as_tuple()[:4] for address in addresses})
        known: dict[tuple[str, ...], set[str]] = {}
        for parent in parents:
            known[parent] = set(await with_timeout(self._engine.all_children(parent)))
        new = [str(a) for a in addresses if a.account_id not in known[a.as_tuple()[:4]]]
        self.post_message(self.NewAccountsFound(entry_set, new))

    def on_post_receipt_new_accounts_found(self, message: NewAccountsFound) -> None:
        """Post at once, or first ask about the accounts this post would create."""
        new = [address for address in message.new if address not in self._confirmed_new]
        if not new:
            self._post(message.entry_set)
            return
        self._show("", loading=False)
        entry_set = message.entry_set
        self.app.push_screen(
            new_accounts_question(new), lambda answer: self._answered(entry_set, answer, new)
        )

    def _answered(self, entry_set: EntrySet, answer: bool | None, new: list[str]) -> None:
        if not answer:
            self._posting = None
            return
        self._confirmed_new.update(new)  # a retry of this draft does not ask again
        self._post(entry_set)

    def _post(self, entry_set: EntrySet) -> None:
        self._show(f"Posting {entry_set.transaction_id}…", loading=True)
        self.post_entry_set(entry_set)

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def post_entry_set(self, entry_set: EntrySet) -> None:
        """One engine call: record the set (idempotent on its transaction id)."""
        receipt = await with_timeout(self._engine.post(entry_set))
        self.post_message(self.EntrySetPosted(receipt))

    def show_posted(self, receipt: Receipt) -> None:
        """The post ended with ``receipt``: show it (the screen calls this as it hears of it, so
        the draft is marked posted in the same step)."""
        self._posting = None
        count = len(receipt.entries)
        self._show(
            f"[b]Receipt[/b]  transaction {receipt.transaction_id} · [b]{receipt.status.value}[/b] at "
            f"{instant_text(receipt.recorded_at)} UTC · {count} entr{'y' if count == 1 else 'ies'}\n"
            "ctrl+n starts a new draft",
            loading=False,
        )
        self.add_class("-posted")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed post keeps the draft and its id, so ctrl+s (or ctrl+r) retries safely."""
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        transaction_id = None if self._posting is None else self._posting.transaction_id
        self._posting = None
        if isinstance(error, ConflictingResubmission):
            text = (
                f"[b]Not posted[/b]: transaction {transaction_id} is already recorded with a "
                "different entry set (nothing was changed).\n"
                "Undo your edits to confirm the original, or ctrl+n to post this as a new transaction."
            )
        else:
            title, reason = describe_failure(error)
            text = (
                f"[b]Not confirmed[/b] ({title}): {reason}\n"
                f"The id {transaction_id} is kept: posting again cannot record it twice."
            )
        self._show(text, loading=False)
        self.add_class("-failed")
        self.post_message(CallFailed(event.worker.group, error))

    def _show(self, text: str, *, loading: bool) -> None:
        self.remove_class("-failed", "-posted")
        self.update(text)
        self.loading = loading
