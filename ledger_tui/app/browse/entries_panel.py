"""One page of a partition's entries, with a panel saying which partition, range and page.

The panel owns the account, range, as-of time and filter on show, the pager and the page read
(a worker whose answers are numbered, so only the latest request is drawn); the screen decides
what to show and hears back when the operator opens an entry or a read moved the range.
The filter runs in the engine while paging; the Balance column stays the account's balance.
Sets committed elsewhere re-read the newest page, or are counted in the panel's title (new_entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from ...domain.changes import Change
from ...domain.entry_filter import EntryFilter
from ...domain.export import ExportTable
from ...domain.model import Address, Entry
from ...domain.timeutil import TimeRange
from ...engine import Engine
from ..messages import CallFailed
from .entries_export import entries_table
from .entry_pager import EntryPager, PageStart
from .entry_rows import add_entry_columns, entry_cells
from .new_entries import LiveEntries, Step
from .page_read import PageAsk, PageRead, read_page
from .partition_summary import summary_lines

ENTRY_PAGE_SIZE = 100
GROUP = "entries"
NOTHING_CHOSEN = "Select an account or a month in the tree."
EMPTY_LEDGER = (
    "The ledger is empty.\n\nPost an entry set in Compose (F2), or fill a demo ledger with\n"
    "  ledger-tui load-sample --transactions 300"
)


class EntriesPanel(Vertical):
    """Partition panel over the entries table (or, for an empty ledger, how to fill it)."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    class EntryChosen(Message):
        """Enter was pressed on ``entry`` (the screen opens its transaction)."""

        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    class RangeReset(Message):
        """Opening an account moved the range to where it has entries (the screen shows it)."""

        def __init__(self, time_range: TimeRange) -> None:
            super().__init__()
            self.time_range = time_range

    class PageLoaded(Message, bubble=False):
        """A page of entries asked for by ``ask`` arrived (the panel's worker result)."""

        def __init__(self, ask: PageAsk, read: PageRead) -> None:
            super().__init__()
            self.ask = ask
            self.read = read

    def __init__(self, engine: Engine, *, page_size: int | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._engine = engine
        self._page_size = page_size or ENTRY_PAGE_SIZE  # the config file's page_size, if any
        self._page_request = 0  # numbers page reads: only the latest one's answer is shown
        self._address: Address | None = None
        self._range = TimeRange()
        self._pager: EntryPager | None = None
        self._entries: list[Entry] = []
        self._balances: list[Decimal] = []
        self._focus_on_load = False  # the table was asked for the focus while it was reading
        self._as_of: datetime | None = None
        self._filter = EntryFilter()
        self._months: list[str] | None = None  # the account's months with entries, once read
        self._narrow = False
        self._reset_pending = False
        self._live = LiveEntries()  # what sets committed elsewhere did to the page on show

    def compose(self) -> ComposeResult:
        """Partition panel, entries table, empty-ledger note."""
        yield Static(NOTHING_CHOSEN, id="partition-panel")
        table: DataTable[str | Text] = DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        add_entry_columns(table, narrow=self._narrow)
        yield table
        yield Static("", id="entry-line")
        yield Static("", id="empty-state")

    @property
    def _table(self) -> DataTable[str | Text]:
        return self.query_one("#entries", DataTable)

    # -- what is shown -----------------------------------------------------------------------

    @property
    def address(self) -> Address | None:
        """The account on show (or asked for), if any."""
        return self._address

    @property
    def time_range(self) -> TimeRange:
        """The date range entries are shown in."""
        return self._range

    @property
    def as_of(self) -> datetime | None:
        """The recorded time the ledger is read as of (None: now)."""
        return self._as_of

    @property
    def entry_filter(self) -> EntryFilter:
        """The filter on show (an empty one shows every entry)."""
        return self._filter

    @property
    def months(self) -> list[str] | None:
        """The months with entries of the account on show (None until its first page is read)."""
        return self._months

    def set_range(self, time_range: TimeRange) -> None:
        """Use ``time_range`` from the next read on (reads nothing itself)."""
        self._range = time_range
        self._live.follows_months = False

    def show_entries(self, address: Address) -> None:
        """Show the first page of ``address`` in the current date range."""
        self._address = address
        self._reset_pending = False
        self._load_first_page()

    def open_account(self, address: Address) -> None:
        """Show ``address`` with the range reset to where it has entries (its first to last month)."""
        self._address = address
        self._months = None
        self._live.follows_months = True
        self._reset_pending = True  # until a page arrives: a retry resets the range too
        self._load_first_page(reset_range=True)

    def show_range(self, time_range: TimeRange, as_of: datetime | None = None) -> None:
        """Show the account on screen (if any) in ``time_range`` as of ``as_of``, from its first page."""
        self._range = time_range
        self._live.follows_months = False
        self._as_of = as_of
        if self._address is not None:
            self._load_first_page()
        self._update_panel()

    def set_filter(self, where: EntryFilter) -> None:
        """Show only the entries ``where`` accepts (an empty filter: all), from the first page."""
        self._filter = where
        if self._address is not None:
            self._load_first_page()
        self._update_panel()

    def reload(self) -> None:
        """Read the account on show again from its first page (nothing to do without one)."""
        if self._address is not None:
            self._load_first_page(reset_range=self._reset_pending or self._live.follows_months)

    def retry(self) -> None:
        """Repeat the page on show, or the first page if it never arrived."""
        if self._address is not None and self._pager is not None:
            self._load_page(self._address, self._range, self._pager.current, first=False)
        else:
            self.reload()

    def show_empty_ledger(self, empty: bool) -> None:
        """Swap the panel and table for a note on how to fill an empty ledger (or back)."""
        note = self.query_one("#empty-state", Static)
        note.update(EMPTY_LEDGER if empty else "")
        note.display = empty
        self._table.display = not empty
        self.query_one("#partition-panel").display = not empty
        self.query_one("#entry-line").display = not empty

    def focus_table(self) -> None:
        """Move to the entries table; one that is reading takes the focus when its page arrives.

        Either way the focus leaves the date inputs now, so the next browse key is a key,
        never a character typed into a date.
        """
        table = self._table
        self.screen.set_focus(table)
        if self.screen.focused is not table:
            self.screen.set_focus(None)
            self._focus_on_load = True

    # -- sets committed elsewhere ------------------------------------------------------------

    def take_in(self, changes: Sequence[Change]) -> bool:
        """Sets committed elsewhere: count the account's new entries an older page cannot show;
        True when the page on show should be read again (``reread_wanted`` does it)."""
        if self._address is None:
            return False
        wanted = self._live.take_in(changes, (self._address, self._range, self._as_of), self._pager)
        self._show_marker()
        return wanted

    def reread_wanted(self) -> None:
        """Read again what sets committed elsewhere changed (no spinner; the cursor row stays)."""
        step = self._live.take_wanted()
        if step is Step.FIRST and self._address is not None:
            self._load_first_page(reset_range=self._live.follows_months, quiet=True)
        elif step is Step.PAGE and self._address is not None and self._pager is not None:
            self._load_page(self._address, self._range, self._pager.current, first=False, quiet=True)

    def _show_marker(self) -> None:
        self.query_one("#partition-panel", Static).border_title = self._live.title or None

    # -- reading pages -----------------------------------------------------------------------

    def _load_first_page(self, *, reset_range: bool = False, quiet: bool = False, walk_to: int = 0) -> None:
        """Read from the first page; ``quiet``: for sets committed elsewhere (``walk_to``: up to
        that page, which stays on show), else for another account, range or filter."""
        assert self._address is not None
        if not quiet:
            self._pager = None
            self._live.forget()
            self._show_marker()
        start = PageStart(None, Decimal(0))
        self._load_page(
            self._address,
            self._range,
            start,
            first=True,
            reset_range=reset_range,
            quiet=quiet,
            walk_to=walk_to,
        )

    def _load_page(
        self,
        address: Address,
        time_range: TimeRange,
        start: PageStart,
        *,
        first: bool,
        reset_range: bool = False,
        quiet: bool = False,
        walk_to: int = 0,
    ) -> None:
        self._table.loading = not quiet
        self._page_request += 1
        token, where, as_of = start.token, self._filter, self._as_of
        self.fetch_page(
            PageAsk(
                self._page_request,
                address,
                time_range,
                token,
                first,
                reset_range,
                as_of,
                where,
                quiet,
                walk_to,
            )
        )

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def fetch_page(self, ask: PageAsk) -> None:
        """One page of entries (and, for a first page, the account's months and opening balance)."""
        self.post_message(self.PageLoaded(ask, await read_page(self._engine, ask, self._page_size)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed read stops the spinner; the screen shows the notice."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._table.loading = False
            self.post_message(CallFailed(event.worker.group, event.worker.error))

    def on_entries_panel_page_loaded(self, message: PageLoaded) -> None:
        """Replace the table with the new page and update the partition panel."""
        if message.ask.number != self._page_request:
            return  # an answer to a read the operator has since replaced (another page, account, range)
        read = message.read
        self._reset_pending = False
        if read.months is not None:
            self._months = read.months
        if read.time_range != self._range:
            self._range = read.time_range
            self.post_message(self.RangeReset(read.time_range))
        if read.pager is not None:
            self._pager = read.pager
        elif read.opening is not None or self._pager is None:
            self._pager = EntryPager.starting_at(read.opening or Decimal(0))
        self._balances = self._pager.page_loaded(read.page.items, read.page.next_token)
        self._entries = [match.entry for match in read.page.items]
        fresh = message.ask.first
        if self._live.page_read(self._entries, self._pager.has_next, self._range, fresh=fresh):
            self._load_first_page(quiet=True, walk_to=self._pager.index)
        self._show_marker()
        table = self._table
        row = table.cursor_row
        self._fill_table()
        if message.ask.quiet and 0 < row < len(self._entries):
            table.move_cursor(row=row)  # a re-read for sets committed elsewhere keeps the place
        table.loading = False
        if self._focus_on_load:
            self._focus_on_load = False
            if self.screen.focused is None:
                self.call_after_refresh(self.screen.set_focus, table)
        self._update_panel()

    def _fill_table(self) -> None:
        table = self._table
        table.clear()
        currencies = self._engine.currencies
        for entry, balance in zip(self._entries, self._balances, strict=True):
            table.add_row(*entry_cells(entry, balance, currencies, narrow=self._narrow), key=entry.entry_id)
        self._show_entry_line()

    def set_narrow(self, narrow: bool) -> None:
        """Below ~100 columns the id column gives way to the description (the line under the
        table names the cursor row's whole id either way)."""
        if narrow == self._narrow:
            return
        self._narrow = narrow
        table = self._table
        row = table.cursor_row
        table.clear(columns=True)
        add_entry_columns(table, narrow=self._narrow)
        self._fill_table()
        if 0 <= row < len(self._entries):
            table.move_cursor(row=row)

    def _update_panel(self) -> None:
        panel = self.query_one("#partition-panel", Static)
        if self._address is None:
            panel.update(NOTHING_CHOSEN)
            return
        lines = summary_lines(
            self._address, self._range, self._as_of, self._filter, self._pager, self._engine.currencies
        )
        panel.update("\n".join(lines))

    def _show_entry_line(self) -> None:
        """The whole transaction id of the row under the cursor (the column shows a short form)."""
        entry = self.entry_under_cursor()
        line = self.query_one("#entry-line", Static)
        if entry is None:
            line.update("")
            return
        if self._narrow:
            line.update(f"id {entry.transaction_id} · y copies")
        else:
            line.update(f"transaction {entry.transaction_id} · y copies · enter opens")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The cursor moved: name its transaction in full."""
        event.stop()
        self._show_entry_line()

    # -- paging and opening ------------------------------------------------------------------

    def next_page(self) -> None:
        """Next page of entries, if any."""
        if self._address is None or self._pager is None:
            return
        start = self._pager.go_next()
        if start is None:
            self.notify("This is the last page.", timeout=3)
            return
        self._load_page(self._address, self._range, start, first=False)

    def previous_page(self) -> None:
        """Previous page of entries (re-read from its saved token)."""
        if self._address is None or self._pager is None:
            return
        start = self._pager.go_previous()
        if start is None:
            self.notify("This is the first page.", timeout=3)
            return
        self._load_page(self._address, self._range, start, first=False)

    def entry_under_cursor(self) -> Entry | None:
        """The entry the table's cursor is on, if the table shows any."""
        row = self._table.cursor_row
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on an entry: tell the screen which one."""
        event.stop()
        if 0 <= event.cursor_row < len(self._entries):
            self.post_message(self.EntryChosen(self._entries[event.cursor_row]))

    def export_table(self) -> ExportTable:
        """The rows on screen (this page, filter applied) with exact, ungrouped amounts."""
        return entries_table(self._entries, self._balances, self._engine.currencies)
