"""Find an account: type any part of its address, see the matches, enter opens the one chosen.

The accounts are read once into the app's cache (in a worker) and every keystroke filters
that list in memory, so the finder stays instant on a ledger of any size.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...domain.model import Address
from ..failures import with_timeout
from ..ledger_screen import ConsoleContext
from ..messages import CallFailed
from ..widgets.accounts import AccountIndex
from ..widgets.formatting import plural

#: Matches listed at most (the count line says how many more there are).
SHOWN_MATCHES = 100


class AccountFinder(ModalScreen[Address | None]):
    """A search box over every account; dismisses with the chosen address (None: escape)."""

    CSS_PATH = "finder.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next match", show=False),
        Binding("up", "move(-1)", "Previous match", show=False),
        Binding("pagedown", "move(10)", "Next matches", show=False),
        Binding("pageup", "move(-10)", "Previous matches", show=False),
    ]

    class AccountsLoaded(Message):
        """The ledger's accounts are in memory (the finder's worker result)."""

        def __init__(self, index: AccountIndex) -> None:
            super().__init__()
            self.index = index

    def __init__(self, context: ConsoleContext, query: str = "") -> None:
        super().__init__()
        self._ledger = context
        self._query = query
        self._index: AccountIndex | None = None
        self._shown: tuple[Address, ...] = ()

    def compose(self) -> ComposeResult:
        """Title, search box, matches, count."""
        with Vertical(id="finder"):
            yield Label("Find an account: words of its address, in any order (enter opens it in browse)")
            yield Input(self._query, placeholder="e.g. alice  or  fintech_uk customer GBP", id="finder-query")
            yield OptionList(id="finder-matches")
            yield Label("Loading accounts…", id="finder-count")

    def on_mount(self) -> None:
        """Search at once if the accounts are cached, else load them first."""
        self.query_one(Input).focus()
        cached = self._ledger.accounts.cached
        if cached is not None:
            self._use(cached)
        else:
            self.load_accounts()

    @work(exclusive=True, group="find-accounts", exit_on_error=False)
    async def load_accounts(self) -> None:
        """Read every account once (through the app's cache)."""
        index = await with_timeout(self._ledger.accounts.index(self._ledger.engine))
        self.post_message(self.AccountsLoaded(index))

    def on_account_finder_accounts_loaded(self, message: AccountsLoaded) -> None:
        """Show the matches for what has been typed so far."""
        self._use(message.index)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed load is a notice; the finder stays open (ctrl+r in the app retries later)."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#finder-count", Label).update("Accounts could not be read.")
            self.post_message(CallFailed(event.worker.group, event.worker.error))

    def _use(self, index: AccountIndex) -> None:
        self._index = index
        self._show(self.query_one(Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter on every keystroke, in memory."""
        self._show(event.value)

    def _show(self, query: str) -> None:
        if self._index is None:
            return
        found = self._index.search(query, SHOWN_MATCHES)
        self._shown = found.addresses
        matches = self.query_one(OptionList)
        matches.clear_options()
        matches.add_options([Option(str(address)) for address in found.addresses])
        if found.addresses:
            matches.highlighted = 0
        more = found.total - len(found.addresses)
        count = f"{plural(found.total, 'account', 'accounts')} of {len(self._index):,}"
        if more > 0:
            count += f" · first {len(found.addresses)} shown, type more to narrow"
        self.query_one("#finder-count", Label).update(count if found.total else "No account matches.")

    def action_move(self, step: int) -> None:
        """Move the highlight while the cursor stays in the search box."""
        matches = self.query_one(OptionList)
        if not self._shown:
            return
        current = matches.highlighted or 0
        matches.highlighted = max(0, min(len(self._shown) - 1, current + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter opens the highlighted match."""
        event.stop()
        self._choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or enter in the list) opens that match."""
        event.stop()
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self._shown):
            self.dismiss(self._shown[index])

    def action_cancel(self) -> None:
        """Close without opening anything."""
        self.dismiss(None)
