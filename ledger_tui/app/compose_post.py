"""Posting a composed draft: the new-account question, the engine call, the receipt.

Whether an address already exists is asked of the ledger when ctrl+s is pressed (in a
worker), never while typing, so a mistyped account is caught without slowing a keystroke.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from textual import work
from textual.message import Message
from textual.widgets import Static

from ..domain.errors import ConflictingResubmission, LedgerError
from ..domain.model import EntrySet, Receipt
from ..domain.parse import build_entry_set
from .confirm_dialog import ConfirmDialog
from .draft import DraftCheck, LegDraft
from .failures import describe_failure, with_timeout
from .formatting import instant_text
from .ledger_screen import LedgerScreen

#: At most this many new addresses are listed in the question (the rest are counted).
LISTED_NEW = 8


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


class DraftPosting(LedgerScreen):
    """ctrl+s for a screen that holds a draft (mixed into the compose screen)."""

    _transaction_id: uuid.UUID
    _posting: bool
    _posted: list[LegDraft] | None
    _confirmed_new: set[str]

    class NewAccountsFound(Message):
        """The ledger was asked which of the draft's accounts exist; ``new`` lists those that do not."""

        def __init__(self, entry_set: EntrySet, new: list[str]) -> None:
            super().__init__()
            self.entry_set = entry_set
            self.new = new

    class EntrySetPosted(Message):
        """The ledger recorded the draft (or recognised it as a duplicate)."""

        def __init__(self, receipt: Receipt) -> None:
            super().__init__()
            self.receipt = receipt

    def recheck(self) -> DraftCheck:
        raise NotImplementedError

    def _drafts(self) -> list[LegDraft]:
        raise NotImplementedError

    def action_post(self) -> None:
        """Post the draft if it balances; the same id is reused if this is a retry."""
        if self._posting:
            self.notify("Already posting…", timeout=3)
            return
        check = self.recheck()
        if not check.ready:
            self.notify(check.status, title="Not posted", severity="warning")
            return
        legs = [leg_check.leg for leg_check in check.legs if leg_check.leg is not None]
        try:  # the check already built every leg: post exactly those
            entry_set = build_entry_set(self._transaction_id, legs)
        except LedgerError as error:
            self.ledger_app.report_failure(error)
            return
        self._posting = True
        self._show_receipt(f"Checking the accounts of {entry_set.transaction_id}…", loading=True)
        self.find_new_accounts(entry_set)

    @work(exclusive=True, group="post", exit_on_error=False)
    async def find_new_accounts(self, entry_set: EntrySet) -> None:
        """Ask the ledger which of the set's accounts exist (one read per 4-part parent)."""
        addresses = sorted({leg.address for leg in entry_set.legs})
        parents = sorted({address.as_tuple()[:4] for address in addresses})
        known: dict[tuple[str, ...], set[str]] = {}
        for parent in parents:
            known[parent] = set(await with_timeout(self.engine.all_children(parent)))
        new = [str(a) for a in addresses if a.account_id not in known[a.as_tuple()[:4]]]
        self.post_message(self.NewAccountsFound(entry_set, new))

    def on_draft_posting_new_accounts_found(self, message: NewAccountsFound) -> None:
        """Post at once, or first ask about the accounts this post would create."""
        new = [address for address in message.new if address not in self._confirmed_new]
        if not new:
            self._post(message.entry_set)
            return
        self._show_receipt("", loading=False)
        entry_set = message.entry_set
        question = new_accounts_question(new)
        self.app.push_screen(question, lambda answer: self._answered(entry_set, answer, new))

    def _answered(self, entry_set: EntrySet, answer: bool | None, new: list[str]) -> None:
        if not answer:
            self._posting = False
            return
        self._confirmed_new.update(new)  # a retry of this draft does not ask again
        self._post(entry_set)

    def _post(self, entry_set: EntrySet) -> None:
        self._show_receipt(f"Posting {entry_set.transaction_id}…", loading=True)
        self.post_entry_set(entry_set)

    def _show_receipt(self, text: str, *, loading: bool) -> Static:
        receipt = self.query_one("#receipt", Static)
        receipt.remove_class("-failed", "-posted")
        receipt.update(text)
        receipt.loading = loading
        return receipt

    @work(exclusive=True, group="post", exit_on_error=False)
    async def post_entry_set(self, entry_set: EntrySet) -> None:
        """One engine call: record the set (idempotent on its transaction id)."""
        receipt = await with_timeout(self.engine.post(entry_set))
        self.post_message(self.EntrySetPosted(receipt))

    def on_draft_posting_entry_set_posted(self, message: EntrySetPosted) -> None:
        """Show the receipt and tell the other screens the ledger changed."""
        self._posting = False
        self._posted = self._drafts()
        receipt = message.receipt
        count = len(receipt.entries)
        widget = self._show_receipt(
            f"[b]Receipt[/b]  transaction {receipt.transaction_id} · [b]{receipt.status.value}[/b] at "
            f"{instant_text(receipt.recorded_at)} UTC · {count} entr{'y' if count == 1 else 'ies'}\n"
            "ctrl+n starts a new draft",
            loading=False,
        )
        widget.add_class("-posted")
        self.ledger_app.ledger_changed()
        self.rerun_reads()  # the accounts just created join the completions

    def call_failed(self, group: str, error: BaseException) -> None:
        """A failed post keeps the draft and its id, so ctrl+s (or ctrl+r) retries safely."""
        if group != "post":
            return
        self._posting = False
        if isinstance(error, ConflictingResubmission):
            text = (
                f"[b]Not posted[/b]: transaction {self._transaction_id} is already recorded with a "
                "different entry set (nothing was changed).\n"
                "Undo your edits to confirm the original, or ctrl+n to post this as a new transaction."
            )
        else:
            title, reason = describe_failure(error)
            text = (
                f"[b]Not confirmed[/b] ({title}): {reason}\n"
                f"The id {self._transaction_id} is kept: posting again cannot record it twice."
            )
        self._show_receipt(text, loading=False).add_class("-failed")
