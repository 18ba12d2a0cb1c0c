"""Browse: the account tree on the left; a date range and one page of a partition's entries on the right.

The screen composes three widgets and routes what they report: a picked account shows its
entries over the months it has any, a picked month that month, a submitted range (and as-of
time) re-reads them, an opened entry shows its transaction, and a jump from that transaction
walks the tree open to the leg's account; the account's holds show apart, under the entries.
Sets committed elsewhere reach the panel (its newest page shows them; an older page counts them).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Label

from ...domain.changes import Change
from ...domain.entry_filter import EntryFilter
from ...domain.model import Address
from ...domain.timeutil import (
    TimeRange,
    bucket_of,
    month_range,
    range_bucket,
    step_bucket,
)
from ..ledger_screen import ConsoleContext, LedgerScreen
from ..widgets.export_prompt import export_table
from ..widgets.range_bar import RangeBar
from .account_holds import AccountHolds
from .account_tree import AccountTree
from .entries_panel import EntriesPanel
from .entry_filter_dialog import EntryFilterDialog
from .month_steps import step_month
from .transaction_detail import Jump, TransactionDetail

#: Below this many columns the tree narrows.
NARROW_WIDTH = 100


class BrowseScreen(LedgerScreen):
    """Account tree on the left; range bar, partition panel and one page of entries on the right."""

    CSS_PATH = "screen.tcss"
    TITLE = "Browse"
    BINDINGS = [
        Binding("n", "next_page", "Next page"),
        Binding("p", "previous_page", "Prev page"),
        Binding("left_square_bracket", "shift_month(-1)", "Prev month"),
        Binding("right_square_bracket", "shift_month(1)", "Next month"),
        Binding("f", "focus_filter", "Dates"),
        Binding("slash", "filter_entries", "Filter"),
        Binding("c", "clear_filter", "All dates"),
        Binding("ctrl+e", "export_entries", "Export"),
        Binding("escape", "clear_entry_filter", "Clear the entries filter", show=False),
        Binding("e", "focus_entries", "Entries"),
        Binding("t", "focus_tree", "Tree", show=False),
        Binding("y", "copy_id", "Copy the entry's transaction id", show=False),
        Binding("r", "refresh_ledger", "Refresh (posts from the HTTP API or elsewhere)", show=False),
        Binding("enter", "noop", "Open node / entry (transaction detail)", show=False),
    ]

    def __init__(self, context: ConsoleContext, *, opening: tuple[Address, str] | None = None) -> None:
        super().__init__(context)
        self._stale = False
        self._empty = False  # the tree found no accounts: a set committed elsewhere reloads it
        self._opening = opening  # an (account, bucket) to show once the store first answers

    def on_resize(self, event: events.Resize) -> None:
        """A narrow terminal gives the tree less room, so the entries keep their columns."""
        narrow = event.size.width < NARROW_WIDTH
        self.set_class(narrow, "-narrow")
        self._panel.set_narrow(narrow)

    def compose(self) -> ComposeResult:
        """Tree | (range bar, entries panel)."""
        yield Header()
        with Horizontal(id="browse-main"):
            yield AccountTree(self.engine, id="account-tree")
            with Vertical(id="browse-right"):
                yield RangeBar(
                    Label("[ ] month · c all dates", id="range-hint"),
                    id="range-bar",
                    end_label="Before",
                    with_as_of=True,
                )
                yield EntriesPanel(self.engine, page_size=self.context.page_size, id="entries-panel")
                yield AccountHolds(self.engine, id="account-holds")
        yield Footer(compact=True)

    @property
    def _tree(self) -> AccountTree:
        return self.query_one(AccountTree)

    @property
    def _panel(self) -> EntriesPanel:
        return self.query_one(EntriesPanel)

    def _follow_holds(self, *, again: bool = False) -> None:
        """The holds panel follows the account and as-of time the entries show."""
        self.query_one(AccountHolds).show(self._panel.address, self._panel.as_of, again=again)

    # -- loading -----------------------------------------------------------------------------

    def store_ready(self) -> None:
        """(Re)load the top of the tree, and the entries on screen if any."""
        self._tree.reload()
        opening, self._opening = self._opening, None
        if opening is not None:
            self._show_bucket(*opening)
        else:
            self._panel.reload()
            self._follow_holds(again=True)

    def ledger_changed(self) -> None:
        """New entries: rebuild the tree and the page on screen now if shown, else when next shown."""
        self._stale = True
        if self.is_current:
            self._catch_up()

    def sets_committed(self, changes: Sequence[Change]) -> None:
        """Sets committed elsewhere: the panel re-reads the newest page on show (at most once a
        second; when next shown if hidden) or counts them; an empty ledger's tree is read again."""
        if self._empty:
            self._stale = True
        wanted = self._panel.take_in(changes)
        if (self._empty or wanted) and self.is_current:
            self.refresh_live(self._live_reread)

    def _live_reread(self) -> None:
        if self.is_current:
            self._catch_up()
            self._panel.reread_wanted()

    def on_screen_resume(self) -> None:
        """Catch up with entries posted while another screen was shown."""
        self._catch_up()
        self._panel.reread_wanted()

    def _catch_up(self) -> None:
        if self._stale:
            self.action_refresh_ledger()

    def action_refresh_ledger(self) -> None:
        """Re-read the tree and the entries shown: picks up sets posted by another process (the
        HTTP server, a script, another console) on the same store."""
        if self.store_is_ready:
            self._stale = False
            self.store_ready()
            address = self._panel.address
            if address is not None:
                self._tree.reveal(address, range_bucket(self._panel.time_range))

    def retry(self) -> None:
        """Repeat the entries query if one is shown (or was asked for), else reload the tree."""
        if self._panel.address is not None:
            self._panel.retry()
        else:
            self.store_ready()

    # -- what the widgets report -------------------------------------------------------------

    def on_account_tree_tree_loaded(self, message: AccountTree.TreeLoaded) -> None:
        """An empty ledger says how to fill it; otherwise the tree takes the keys until an account shows."""
        self._empty = message.empty
        self._panel.show_empty_ledger(message.empty)
        if not message.empty and self._panel.address is None:
            self._tree.focus()

    def on_account_tree_account_chosen(self, message: AccountTree.AccountChosen) -> None:
        """An account shows its entries from its first to its last month with entries."""
        self._panel.open_account(message.address)
        self._follow_holds()

    def on_entries_panel_range_reset(self, message: EntriesPanel.RangeReset) -> None:
        """The panel moved the range (an account opened): the dates follow."""
        self.query_one(RangeBar).set_range(message.time_range)

    def on_account_tree_bucket_chosen(self, message: AccountTree.BucketChosen) -> None:
        """A month shows that month of its account."""
        self.set_range(month_range(message.bucket))
        self.show_entries(message.address)

    def on_range_bar_range_submitted(self, message: RangeBar.RangeSubmitted) -> None:
        """Go to the entries, then show them in the typed range (a table already reading refuses focus)."""
        self._panel.focus_table()
        self._panel.show_range(message.time_range, message.as_of)
        self._follow_holds()

    def on_range_bar_left(self, message: RangeBar.Left) -> None:
        """Escape in a date: back to the entries on show, else the tree."""
        if self._panel.address is not None:
            self._panel.focus_table()
        else:
            self._tree.focus()

    def on_range_bar_range_rejected(self, message: RangeBar.RangeRejected) -> None:
        """Say why the typed range cannot be used (the entries stay as they are)."""
        self.notify(message.reason, title="Date range", severity="error")

    def on_entries_panel_entry_chosen(self, message: EntriesPanel.EntryChosen) -> None:
        """Enter on an entry opens its transaction."""
        self.app.push_screen(TransactionDetail(self.context, message.entry.transaction_id), self._jump)

    def _jump(self, target: Jump | None) -> None:
        """Show the leg's account in its bucket, and open the tree down to it."""
        if target is not None:
            self._show_bucket(*target)

    def _show_bucket(self, address: Address, bucket: str) -> None:
        self.set_range(month_range(bucket))
        self.show_entries(address)
        self._tree.reveal(address, bucket)

    # -- entries and range -------------------------------------------------------------------

    def show_account(self, address: Address, time_range: TimeRange | None = None) -> None:
        """Show ``address`` (all dates unless ``time_range``) with the tree open down to it."""
        self.set_range(time_range or TimeRange())
        self.show_entries(address)
        self._tree.reveal(address)
        self._tree.focus()

    def show_entries(self, address: Address) -> None:
        """Show the first page of ``address`` in the current date range."""
        self._panel.show_entries(address)
        self._follow_holds()

    def set_range(self, time_range: TimeRange) -> None:
        """Set the date filter (and its inputs); the caller decides what to reload."""
        self._panel.set_range(time_range)
        self.query_one(RangeBar).set_range(time_range)

    def action_next_page(self) -> None:
        """Next page of entries, if any."""
        self._panel.next_page()

    def action_previous_page(self) -> None:
        """Previous page of entries (re-read from its saved token)."""
        self._panel.previous_page()

    def action_shift_month(self, step: int) -> None:
        """Move to the previous or next month that has entries (skipping empty ones); without an
        account's months to go by, one calendar month (from this month if no range is set)."""
        current = self._panel.time_range
        start = current.start
        bucket = bucket_of(start) if start is not None else bucket_of(self.context.clock())
        on_month = start is not None and range_bucket(current) is not None
        months = self._panel.months
        if months is not None:
            found = step_month(months, bucket, step, on_month=on_month)
            if found is None:
                way = "earlier" if step < 0 else "later"
                self.notify(f"No {way} month with entries for this account.", timeout=3)
                return
            self._change_range(month_range(found))
            return
        if on_month:
            bucket = step_bucket(bucket, step)
        self._change_range(month_range(bucket))

    def action_clear_filter(self) -> None:
        """Show all dates."""
        self._change_range(TimeRange())

    def _change_range(self, time_range: TimeRange) -> None:
        self.query_one(RangeBar).set_range(time_range)
        self._panel.show_range(time_range, self._panel.as_of)

    def action_filter_entries(self) -> None:
        """Ask for a description text, amount range and side to filter the entries by."""
        self.app.push_screen(EntryFilterDialog(self._panel.entry_filter), self._filter_chosen)

    def _filter_chosen(self, where: EntryFilter | None) -> None:
        if where is not None:
            self._panel.set_filter(where)

    def action_clear_entry_filter(self) -> None:
        """Escape: drop the entries filter (nothing to do without one)."""
        if not self._panel.entry_filter.is_active:
            raise SkipAction()
        self._panel.set_filter(EntryFilter())
        self.notify("Filter cleared: every entry shows.", timeout=3)

    def action_export_entries(self) -> None:
        """Write the rows on screen (this page, filter applied) to a CSV or JSON file."""
        if self._panel.address is None:
            self.notify("Open an account first.", timeout=3)
            return
        export_table(self, "entries", self._panel.export_table())

    def action_focus_filter(self) -> None:
        """Put the cursor in the From date."""
        self.query_one(RangeBar).focus_start()

    def action_focus_entries(self) -> None:
        """Move to the entries table (enter there opens a transaction)."""
        self._panel.focus_table()

    def action_focus_tree(self) -> None:
        """Back to the tree."""
        self._tree.focus()

    def action_copy_id(self) -> None:
        """Copy the transaction id of the entry under the cursor (the column cuts it at 120 wide)."""
        entry = self._panel.entry_under_cursor()
        if entry is None:
            self.notify("Put the cursor on an entry first (e).", timeout=3)
            return
        self.app.copy_to_clipboard(str(entry.transaction_id))
        self.notify(f"Copied transaction id {entry.transaction_id}", timeout=4)

    def action_noop(self) -> None:
        """Placeholder so 'enter' is listed in the help (the focused widget handles it)."""
