"""Compose: build a balanced entry set leg by leg, see per-currency totals live, post it once.

The transaction id is fixed when the draft starts and kept through retries, so resubmitting
after a timeout can only ever be reported as a duplicate, never posted twice. The post itself
and its receipt are the ``PostReceipt`` widget's; drafts load from and save to JSON files.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.dom import DOMNode
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label, Select, Static

from ...domain.errors import LedgerError
from ...domain.holds import parse_duration
from ...domain.model import Address, EntrySet
from ...domain.parse import build_entry_set
from ..failures import describe_failure, with_timeout
from ..ledger_screen import ConsoleContext, LedgerScreen
from ..messages import LedgerChanged
from ..widgets.dialogs import ConfirmDialog, PathPrompt
from ..widgets.formatting import money_text
from .draft import DraftCheck, LegDraft, check_draft
from .draft_files import DraftFileError, default_draft_dir, read_draft, write_draft
from .hold_poster import HoldPoster
from .leg_editor import LegEditor
from .limits_panel import LimitsPanel
from .receipt import PostReceipt
from .suggest import KnownAccounts

#: Seconds of quiet typing before the draft is re-checked (a check per keystroke made typing lag).
RECHECK_DELAY = 0.15
#: Below this many columns a leg puts side and amount on its second row.
NARROW_WIDTH = 100


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

    CSS_PATH = "screen.tcss"
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
        Binding("f9", "hold", "Post as a hold", show=False),
    ]

    class AccountsLoaded(Message):
        """The ledger's known accounts arrived (for completions)."""

        def __init__(self, accounts: list[Address]) -> None:
            super().__init__()
            self.accounts = accounts

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self._transaction_id = uuid.uuid4()
        self._known = KnownAccounts()
        self._check: DraftCheck | None = None
        self._last_path: str | None = None
        self._recheck_timer: Timer | None = None
        self._shown: dict[str, str] = {}  # text on each status widget, so unchanged text is not redrawn
        self._posted: list[LegDraft] | None = None  # the draft as last posted (ctrl+n need not ask)
        self._narrow = False

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Draft id, column headings, legs, totals, status and receipt."""
        self._transaction_id = self.context.new_transaction_id()
        self._narrow = self.app.size.width < NARROW_WIDTH
        self.set_class(self._narrow, "-narrow")
        yield Header()
        yield Static("", id="draft-id")
        with Horizontal(id="leg-headings"):
            yield Label("", classes="leg-number")
            for name, title in HEADINGS:
                yield Label(title, classes=f"heading heading-{name}")
        with VerticalScroll(id="legs", can_focus=False):
            yield self._editor(1, LegDraft())
            yield self._editor(2, LegDraft(side="credit"))
        yield Static("", id="totals")
        yield LimitsPanel(self.engine, id="limits")
        yield Static("", id="status")
        yield PostReceipt(self.engine, id="receipt")
        yield HoldPoster(self.engine)
        yield Footer(compact=True)

    def _editor(self, number: int, draft: LegDraft) -> LegEditor:
        return LegEditor(number, draft, self._known_accounts, narrow=self._narrow)

    def _known_accounts(self) -> KnownAccounts:
        return self._known

    def on_mount(self) -> None:
        """Show the draft id and the initial (empty) verdict."""
        self._show_draft_id()
        self.call_after_refresh(self.recheck)

    def on_resize(self, event: events.Resize) -> None:
        """Lay the legs out for the terminal's width."""
        narrow = event.size.width < NARROW_WIDTH
        self.set_class(narrow, "-narrow")
        if narrow != self._narrow:
            self._narrow = narrow
            self._show_draft_id()
            focused = self._focused_editor()
            for editor in self.query(LegEditor):
                editor.set_narrow(narrow)
            if focused is not None:  # the re-laid-out leg lost its fields, and with them the focus
                self.call_after_refresh(lambda: focused.query(Input).first().focus())

    def _show_draft_id(self) -> None:
        self.query_one("#draft-id", Static).update(
            f"Transaction id [b]{self._transaction_id}[/b] · kept on retry"
            + ("" if self._narrow else " · ctrl+n starts a new draft")
        )

    # -- store -------------------------------------------------------------------------------

    def store_ready(self) -> None:
        """Fetch known accounts for completions."""
        self.load_accounts()

    def rerun_reads(self) -> None:
        """Coming back only reloads completions: a post is retried by the operator, never implicitly."""
        self.load_accounts()

    @property
    def _receipt(self) -> PostReceipt:
        return self.query_one(PostReceipt)

    def retry(self) -> None:
        """Retry the post if one failed or is pending, else refresh completions."""
        if self._receipt.failed:
            self.action_post()
        else:
            self.load_accounts()

    @work(exclusive=True, group="accounts", exit_on_error=False)
    async def load_accounts(self) -> None:
        """Every account, for the address completions."""
        accounts = await with_timeout(self.engine.accounts())
        self.post_message(self.AccountsLoaded(accounts))

    def on_compose_screen_accounts_loaded(self, message: AccountsLoaded) -> None:
        """Offer each address part the ledger already knows (scoped by the parts before it)."""
        self._known = KnownAccounts(message.accounts)

    # -- live checking -----------------------------------------------------------------------

    def _drafts(self) -> list[LegDraft]:
        return [editor.draft for editor in self.query(LegEditor)]

    def recheck(self) -> DraftCheck:
        """Re-validate every leg and refresh errors, totals and the status line."""
        editors = list(self.query(LegEditor))
        drafts = [editor.draft for editor in editors]
        currencies = self.engine.currencies
        check = check_draft(drafts, currencies)
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
            self._recheck_timer = None
        for editor, draft, leg_check in zip(editors, drafts, check.legs, strict=True):
            editor.show_errors(leg_check.errors, leg_check.missing, quiet=draft.is_blank)
        lines = [
            f"[b]{t.currency}[/b]  debits {money_text(t.debits, t.currency, currencies):>14}"
            f"  credits {money_text(t.credits, t.currency, currencies):>14}"
            f"  difference {money_text(t.difference, t.currency, currencies):>14}"
            for t in check.totals
        ]
        self._update_once("#totals", "\n".join(lines) or "no complete legs yet")
        status = self._update_once("#status", check.status)
        status.set_class(check.ready, "-ready")
        status.set_class(not check.balanced, "-unbalanced")
        self._check = check
        if self.store_is_ready:
            self.query_one(LimitsPanel).check([c.leg for c in check.legs if c.leg is not None])
        return check

    def _update_once(self, selector: str, text: str) -> Static:
        """Update a status widget only when its text changed (each update re-lays the screen out)."""
        widget = self.query_one(selector, Static)
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            widget.update(text)
        return widget

    def on_input_changed(self, event: Input.Changed) -> None:
        """Typing re-checks the draft once the keys pause (the currency is upper-cased as typed)."""
        if event.input.name == "currency" and event.value != event.value.upper():
            event.input.value = event.value.upper()
            return  # the change this makes arrives as its own event
        if self._recheck_timer is None:
            self._recheck_timer = self.set_timer(RECHECK_DELAY, self.recheck)
        else:
            self._recheck_timer.reset()

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
        editor = self._editor(len(self.query(LegEditor)) + 1, draft)
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
        self._transaction_id = transaction_id or self.context.new_transaction_id()
        self._show_draft_id()
        legs = self.query_one("#legs", VerticalScroll)
        await legs.remove_children()
        await legs.mount_all([self._editor(number, draft) for number, draft in enumerate(drafts, start=1)])
        self._posted = None
        self._receipt.clear()
        self.recheck()
        self.query(LegEditor).first().query_one(Input).focus()

    async def action_new_draft(self) -> None:
        """Start over: two blank legs and a fresh transaction id (asks before dropping typed legs)."""
        if self._receipt.is_posting:
            self.notify("A post is still running.", severity="warning")
            return
        drafts = self._drafts()
        if all(draft.is_blank for draft in drafts) or drafts == self._posted:
            await self._start_over(True)
            return
        typed = sum(1 for draft in drafts if not draft.is_blank)
        question = ConfirmDialog(
            "Drop this draft?",
            f"{typed} leg{'s' if typed != 1 else ''} typed and not posted "
            f"(transaction {self._transaction_id}). A new draft discards them.",
            confirm="Drop it",
            decline="Keep editing",
        )
        self.app.push_screen(question, self._start_over)

    async def _start_over(self, confirmed: bool | None) -> None:
        if confirmed:
            await self.set_draft([LegDraft(), LegDraft(side="credit")])

    # -- posting -----------------------------------------------------------------------------

    def action_post(self) -> None:
        """Post the draft if it balances; the same id is reused if this is a retry."""
        entry_set = self._ready_set()
        if entry_set is not None:
            self._receipt.post(entry_set)

    def action_hold(self) -> None:
        """Post the draft as a hold, after asking how long it lasts."""
        entry_set = self._ready_set()
        if entry_set is not None:
            prompt = PathPrompt("Hold this set for how long? (90s, 15m, 12h, 7d)", "7d")
            self.app.push_screen(prompt, lambda text: self._hold_for(entry_set, text))

    def _hold_for(self, entry_set: EntrySet, text: str | None) -> None:
        if text:
            try:
                self.query_one(HoldPoster).place(entry_set, parse_duration(text, "hold for"))
            except LedgerError as error:
                self.notify(str(error), title="Not held", severity="error")

    async def on_hold_poster_hold_placed(self, message: HoldPoster.HoldPlaced) -> None:
        """Say until when the set is held, tell the app, and start a new draft (the id is taken)."""
        hold = message.receipt.hold
        until = hold.expires_at.isoformat(timespec="seconds")
        self.notify(f"{hold.hold_id} held until {until}; capture or void it on the Holds screen (F8)",
                    title="Held" if not message.receipt.repeated else "Already held")  # fmt: skip
        self.post_message(LedgerChanged(hold.hold_id))
        await self.set_draft([LegDraft(), LegDraft(side="credit")])

    def _ready_set(self) -> EntrySet | None:
        """The draft as an entry set when it may be written now, else None (a notice says why)."""
        if self._receipt.is_posting:
            self.notify("Already posting…", timeout=3)
            return None
        check = self.recheck()
        if not check.ready:
            self.notify(check.status, title="Not posted", severity="warning")
            return None
        breaking = self.query_one(LimitsPanel).breaking
        if breaking is not None:  # the store's check decides; this spares a post bound to fail
            self.notify(breaking, title="Not posted: a limit", severity="warning", timeout=10)
            return None
        legs = [leg_check.leg for leg_check in check.legs if leg_check.leg is not None]
        try:  # the check already built every leg: post exactly those
            return build_entry_set(self._transaction_id, legs)
        except LedgerError as error:
            title, message = describe_failure(error)
            self.notify(message, title=title, severity="error", timeout=12)
            return None

    def on_post_receipt_entry_set_posted(self, message: PostReceipt.EntrySetPosted) -> None:
        """Show the receipt, remember what was posted (ctrl+n need not ask), tell the app."""
        message.stop()
        self._receipt.show_posted(message.receipt)
        self._posted = self._drafts()
        self.post_message(LedgerChanged(message.receipt.transaction_id))
        self.rerun_reads()  # the accounts just created join the completions

    # -- files -------------------------------------------------------------------------------

    def action_load_json(self) -> None:
        """Ask for a file in the origin's transaction.json format and load it as the draft."""
        default = self._last_path or str(default_draft_dir() / "draft.json")
        self.app.push_screen(PathPrompt("Load entry set from JSON file", default), self._load_from)

    async def _load_from(self, path: str | None) -> None:
        if not path:
            return
        if self._receipt.is_posting:  # the post in flight owns the current id; loading would replace it
            self.notify("Wait for the post to finish before loading a file.", severity="warning")
            return
        try:
            transaction_id, drafts = read_draft(path)
        except DraftFileError as error:
            self.notify(str(error), title="Cannot load", severity="error")
            return
        self._last_path = path
        await self.set_draft(drafts, transaction_id)
        self.notify(f"Loaded {len(drafts)} legs from {path}", timeout=4)

    def action_save_json(self) -> None:
        """Ask for a path and save the draft (amounts as strings, with its transaction id)."""
        default = self._last_path or str(default_draft_dir() / f"draft-{self._transaction_id}.json")
        self.app.push_screen(PathPrompt("Save draft as JSON file", default), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if not path:
            return
        try:
            target = write_draft(path, self._transaction_id, self._drafts())
        except DraftFileError as error:
            self.notify(str(error), title="Cannot save", severity="error")
            return
        self._last_path = str(target)
        self.notify(f"Saved the draft to {target}", timeout=6)
