"""Compose: build a balanced entry set leg by leg, see per-currency totals live, post it once.

The transaction id is fixed when the draft starts and kept through retries, so resubmitting
after a timeout can only ever be reported as a duplicate, never posted twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Select, Static

from ..domain.document import loads_document, read_bounded
from ..domain.errors import ConflictingResubmission, LedgerError
from ..domain.model import ADDRESS_FIELDS, Address, EntrySet, Receipt
from ..domain.parse import build_entry_set
from .draft import DraftCheck, LegDraft, check_draft, draft_from_data, draft_to_data
from .failures import describe_failure, with_timeout
from .formatting import instant_text, money_text
from .ledger_screen import LedgerScreen
from .leg_editor import LegEditor
from .path_prompt import PathPrompt

HEADINGS = (
    ("legal_entity", "Legal entity"),
    ("namespace", "Namespace"),
    ("name", "Name"),
    ("currency", "Cur"),
    ("account_id", "Account"),
    ("side", "Side"),
    ("amount", "Amount"),
)


class ComposeScreen(LedgerScreen):
    """An editable list of legs, live totals and status, and the receipt of the last post."""

    CSS_PATH = "compose_screen.tcss"
    TITLE = "Compose"
    AUTO_FOCUS = "LegEditor Input"
    BINDINGS = [
        Binding("ctrl+s", "post", "Post"),
        Binding("ctrl+o", "add_leg", "Add leg"),
        Binding("ctrl+y", "duplicate_leg", "Dup leg"),
        Binding("ctrl+l", "remove_leg", "Del leg"),
        Binding("ctrl+t", "toggle_side", "Flip side"),
        Binding("ctrl+n", "new_draft", "New"),
        Binding("f5", "load_json", "Load"),
        Binding("f6", "save_json", "Save"),
    ]

    class AccountsLoaded(Message):
        """The ledger's known accounts arrived (for completions)."""

        def __init__(self, accounts: list[Address]) -> None:
            super().__init__()
            self.accounts = accounts

    class EntrySetPosted(Message):
        """The ledger recorded the draft (or recognised it as a duplicate)."""

        def __init__(self, receipt: Receipt) -> None:
            super().__init__()
            self.receipt = receipt

    def __init__(self) -> None:
        super().__init__()
        self._transaction_id = uuid.uuid4()
        self._suggestions: dict[str, list[str]] = {}
        self._posting = False
        self._check: DraftCheck | None = None
        self._last_path = "draft.json"

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Draft id, column headings, legs, totals, status and receipt."""
        self._transaction_id = self.ledger_app.new_transaction_id()
        yield Header()
        yield Static("", id="draft-id")
        with Horizontal(id="leg-headings"):
            yield Label("", classes="leg-number")
            for name, title in HEADINGS:
                yield Label(title, classes=f"heading heading-{name}")
        with VerticalScroll(id="legs", can_focus=False):
            yield LegEditor(1, LegDraft(), self._suggestions)
            yield LegEditor(2, LegDraft(side="credit"), self._suggestions)
        yield Static("", id="totals")
        yield Static("", id="status")
        yield Static("", id="receipt")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Show the draft id and the initial (empty) verdict."""
        self._show_draft_id()
        self.call_after_refresh(self.recheck)

    def _show_draft_id(self) -> None:
        self.query_one("#draft-id", Static).update(
            f"Transaction id [b]{self._transaction_id}[/b]  (kept on retry · ctrl+n starts a new draft)"
        )

    # -- store -------------------------------------------------------------------------------

    def store_ready(self) -> None:
        """Fetch known accounts for completions."""
        self.load_accounts()

    def rerun_reads(self) -> None:
        """Coming back only reloads completions: a post is retried by the operator, never implicitly."""
        self.load_accounts()

    def retry(self) -> None:
        """Retry the post if one failed or is pending, else refresh completions."""
        if self.query_one("#receipt", Static).has_class("-failed"):
            self.action_post()
        else:
            self.load_accounts()

    @work(exclusive=True, group="accounts", exit_on_error=False)
    async def load_accounts(self) -> None:
        """Every account, for the address completions."""
        accounts = await with_timeout(self.engine.accounts())
        self.post_message(self.AccountsLoaded(accounts))

    def on_compose_screen_accounts_loaded(self, message: AccountsLoaded) -> None:
        """Offer each address part the ledger already knows."""
        suggestions: dict[str, list[str]] = {}
        for index, name in enumerate(ADDRESS_FIELDS):
            suggestions[name] = sorted({account.as_tuple()[index] for account in message.accounts})
        self._suggestions = suggestions
        for editor in self.query(LegEditor):
            editor.set_suggestions(suggestions)

    # -- live checking -----------------------------------------------------------------------

    def _drafts(self) -> list[LegDraft]:
        return [editor.draft for editor in self.query(LegEditor)]

    def recheck(self) -> DraftCheck:
        """Re-validate every leg and refresh errors, totals and the status line."""
        editors = list(self.query(LegEditor))
        drafts = [editor.draft for editor in editors]
        currencies = self.engine.currencies
        check = check_draft(drafts, currencies)
        for editor, draft, leg_check in zip(editors, drafts, check.legs, strict=True):
            editor.show_errors(leg_check.errors, leg_check.missing, quiet=draft.is_blank)
        lines = [
            f"[b]{t.currency}[/b]  debits {money_text(t.debits, t.currency, currencies):>14}"
            f"  credits {money_text(t.credits, t.currency, currencies):>14}"
            f"  difference {money_text(t.difference, t.currency, currencies):>14}"
            for t in check.totals
        ]
        self.query_one("#totals", Static).update("\n".join(lines) or "no complete legs yet")
        status = self.query_one("#status", Static)
        status.update(check.status)
        status.set_class(check.ready, "-ready")
        status.set_class(not check.balanced, "-unbalanced")
        self._check = check
        return check

    def on_input_changed(self, event: Input.Changed) -> None:
        """Any keystroke in a leg re-checks the draft."""
        self.recheck()

    def on_select_changed(self, event: Select.Changed) -> None:
        """A side change re-checks the draft."""
        self.recheck()

    # -- legs --------------------------------------------------------------------------------

    def _focused_editor(self) -> LegEditor | None:
        node: DOMNode | None = self.focused
        while node is not None and not isinstance(node, LegEditor):
            node = node.parent
        return node

    async def _add_editor(self, draft: LegDraft, after: LegEditor | None = None) -> None:
        legs = self.query_one("#legs", VerticalScroll)
        editor = LegEditor(len(self.query(LegEditor)) + 1, draft, self._suggestions)
        if after is None:
            await legs.mount(editor)
        else:
            await legs.mount(editor, after=after)
        self._renumber()
        editor.query_one(Input).focus()
        legs.scroll_to_widget(editor)
        self.recheck()

    def _renumber(self) -> None:
        for number, editor in enumerate(self.query(LegEditor), start=1):
            editor.set_number(number)

    async def action_add_leg(self) -> None:
        """Append a blank leg."""
        await self._add_editor(LegDraft())

    async def action_duplicate_leg(self) -> None:
        """Copy the focused leg (or the last one) right after it."""
        editor = self._focused_editor() or self.query(LegEditor).last()
        await self._add_editor(editor.draft, after=editor)

    async def action_remove_leg(self) -> None:
        """Remove the focused leg (one leg always stays)."""
        editors = list(self.query(LegEditor))
        editor = self._focused_editor()
        if editor is None or len(editors) <= 1:
            self.notify("Focus a leg to remove it (one leg always stays).", timeout=3)
            return
        index = editors.index(editor)
        await editor.remove()
        self._renumber()
        remaining = list(self.query(LegEditor))
        remaining[min(index, len(remaining) - 1)].query_one(Input).focus()
        self.recheck()

    def action_toggle_side(self) -> None:
        """Flip the focused leg between debit and credit."""
        editor = self._focused_editor()
        if editor is not None:
            editor.toggle_side()

    async def set_draft(self, drafts: Sequence[LegDraft], transaction_id: uuid.UUID | None = None) -> None:
        """Replace the whole draft (new, or loaded from a file), with a fresh id unless one is given."""
        self._transaction_id = transaction_id or self.ledger_app.new_transaction_id()
        self._show_draft_id()
        legs = self.query_one("#legs", VerticalScroll)
        await legs.remove_children()
        await legs.mount_all(
            [LegEditor(number, draft, self._suggestions) for number, draft in enumerate(drafts, start=1)]
        )
        receipt = self.query_one("#receipt", Static)
        receipt.update("")
        receipt.remove_class("-failed", "-posted")
        self.recheck()
        self.query(LegEditor).first().query_one(Input).focus()

    async def action_new_draft(self) -> None:
        """Start over: two blank legs and a fresh transaction id."""
        if self._posting:
            self.notify("A post is still running.", severity="warning")
            return
        await self.set_draft([LegDraft(), LegDraft(side="credit")])

    # -- posting -----------------------------------------------------------------------------

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
        receipt = self.query_one("#receipt", Static)
        receipt.remove_class("-failed", "-posted")
        receipt.update(f"Posting {entry_set.transaction_id}…")
        receipt.loading = True
        self.post_entry_set(entry_set)

    @work(exclusive=True, group="post", exit_on_error=False)
    async def post_entry_set(self, entry_set: EntrySet) -> None:
        """One engine call: record the set (idempotent on its transaction id)."""
        receipt = await with_timeout(self.engine.post(entry_set))
        self.post_message(self.EntrySetPosted(receipt))

    def on_compose_screen_entry_set_posted(self, message: EntrySetPosted) -> None:
        """Show the receipt and tell the other screens the ledger changed."""
        self._posting = False
        receipt = message.receipt
        widget = self.query_one("#receipt", Static)
        widget.loading = False
        widget.add_class("-posted")
        widget.update(
            f"[b]Receipt[/b]  transaction {receipt.transaction_id} · [b]{receipt.status.value}[/b] · "
            f"recorded {instant_text(receipt.recorded_at)} UTC · {len(receipt.entries)} entries\n"
            "ctrl+n starts a new draft"
        )
        self.ledger_app.ledger_changed()
        self.load_accounts()

    def call_failed(self, group: str, error: BaseException) -> None:
        """A failed post keeps the draft and its id, so ctrl+s (or ctrl+r) retries safely."""
        if group != "post":
            return
        self._posting = False
        widget = self.query_one("#receipt", Static)
        widget.loading = False
        widget.add_class("-failed")
        if isinstance(error, ConflictingResubmission):
            widget.update(
                f"[b]Not posted[/b]: transaction {self._transaction_id} is already recorded with a "
                "different entry set (nothing was changed).\n"
                "Undo your edits to confirm the original, or ctrl+n to post this as a new transaction."
            )
            return
        title, reason = describe_failure(error)
        widget.update(
            f"[b]Not confirmed[/b] ({title}): {reason}\n"
            f"The id {self._transaction_id} is kept: posting again cannot record it twice."
        )

    # -- files -------------------------------------------------------------------------------

    def action_load_json(self) -> None:
        """Ask for a file in the origin's transaction.json format and load it as the draft."""
        self.app.push_screen(PathPrompt("Load entry set from JSON file", self._last_path), self._load_from)

    async def _load_from(self, path: str | None) -> None:
        if not path:
            return
        if self._posting:  # the post in flight owns the current id; loading would replace it
            self.notify("Wait for the post to finish before loading a file.", severity="warning")
            return
        try:
            with Path(path).expanduser().open("rb") as stream:  # bounded: not /dev/zero into memory
                data = loads_document(read_bounded(stream))
            transaction_id, drafts = draft_from_data(data)
        except (OSError, ValueError, RecursionError, RuntimeError, LedgerError) as error:
            self.notify(str(error), title="Cannot load", severity="error")
            return
        if not drafts:
            self.notify("The file has no entries.", title="Cannot load", severity="error")
            return
        self._last_path = path
        await self.set_draft(drafts, transaction_id)
        self.notify(f"Loaded {len(drafts)} legs from {path}", timeout=4)

    def action_save_json(self) -> None:
        """Ask for a path and save the draft (amounts as strings, with its transaction id)."""
        self.app.push_screen(PathPrompt("Save draft as JSON file", self._last_path), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if not path:
            return
        text = json.dumps(draft_to_data(self._transaction_id, self._drafts()), indent=2) + "\n"
        try:
            Path(path).expanduser().write_text(text)
        except (OSError, RuntimeError) as error:
            self.notify(str(error), title="Cannot save", severity="error")
            return
        self._last_path = path
        self.notify(f"Saved the draft to {path}", timeout=4)
