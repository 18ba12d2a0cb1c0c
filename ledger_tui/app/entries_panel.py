"""One page of a partition's entries, with a panel saying which partition, range and page.

The panel owns the account and range on show, the pager and the page read (a worker whose
answers are numbered, so only the latest request is drawn); the screen decides what to show
and hears back only when the operator opens an entry.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from ..domain.model import Address, Entry
from ..domain.paging import Page, PageToken
from ..domain.timeutil import TimeRange, range_bucket
from ..engine import Engine
from .entry_pager import EntryPager, PageStart
from .failures import CallFailed, with_timeout
from .formatting import date_text, instant_text, money_text, plural

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

    class PageLoaded(Message, bubble=False):
        """A page of entries (and, for a first page, the opening balance) arrived."""

        def __init__(
            self,
            request: int,
            address: Address,
            time_range: TimeRange,
            page: Page[Entry],
            opening: Decimal | None,
        ) -> None:
            super().__init__()
            self.request = request
            self.address = address
            self.time_range = time_range
            self.page = page
            self.opening = opening

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._engine = engine
        self._page_request = 0  # numbers page reads: only the latest one's answer is shown
        self._address: Address | None = None
        self._range = TimeRange()
        self._pager: EntryPager | None = None
        self._entries: list[Entry] = []
        self._focus_on_load = False  # the table was asked for the focus while it was reading

    def compose(self) -> ComposeResult:
        """Partition panel, entries table, empty-ledger note."""
        yield Static(NOTHING_CHOSEN, id="partition-panel")
        table: DataTable[str | Text] = DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        table.add_column("Effective (UTC)", key="effective")
        table.add_column("Side", key="side")
        table.add_column("Amount", key="amount")
        table.add_column("Balance", key="balance")
        table.add_column("Description", key="description")
        table.add_column("Transaction", key="transaction")
        yield table
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

    def set_range(self, time_range: TimeRange) -> None:
        """Use ``time_range`` from the next read on (reads nothing itself)."""
        self._range = time_range

    def show_entries(self, address: Address) -> None:
        """Show the first page of ``address`` in the current date range."""
        self._address = address
        self._load_first_page()

    def show_range(self, time_range: TimeRange) -> None:
        """Show the account on screen (if any) in ``time_range``, from its first page."""
        self._range = time_range
        if self._address is not None:
            self._load_first_page()
        self._update_panel()

    def reload(self) -> None:
        """Read the account on show again from its first page (nothing to do without one)."""
        if self._address is not None:
            self._load_first_page()

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

    # -- reading pages -----------------------------------------------------------------------

    def _load_first_page(self) -> None:
        assert self._address is not None
        self._pager = None
        self._load_page(self._address, self._range, PageStart(None, Decimal(0)), first=True)

    def _load_page(self, address: Address, time_range: TimeRange, start: PageStart, *, first: bool) -> None:
        self._table.loading = True
        self._page_request += 1
        self.fetch_page(self._page_request, address, time_range, start.token, first)

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def fetch_page(
        self, request: int, address: Address, time_range: TimeRange, token: PageToken | None, first: bool
    ) -> None:
        """One page of entries; a first page also reads the opening balance before the range."""
        opening: Decimal | None = None
        if first:
            opening = Decimal(0)
            if time_range.start is not None:
                rows = await with_timeout(self._engine.balance(address, TimeRange(None, time_range.start)))
                for row in rows:
                    if row.currency == address.currency:
                        opening = row.closing
        size = getattr(self.app, "page_size", None) or ENTRY_PAGE_SIZE  # config page_size
        page = await with_timeout(self._engine.entries(address, time_range, size, token))
        self.post_message(self.PageLoaded(request, address, time_range, page, opening))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed read stops the spinner; the screen shows the notice."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._table.loading = False
            self.post_message(CallFailed(event.worker.group, event.worker.error))

    def on_entries_panel_page_loaded(self, message: PageLoaded) -> None:
        """Replace the table with the new page and update the partition panel."""
        if message.request != self._page_request:
            return  # an answer to a read the operator has since replaced (another page, account, range)
        if message.opening is not None or self._pager is None:
            self._pager = EntryPager.starting_at(message.opening or Decimal(0))
        balances = self._pager.page_loaded(message.page.items, message.page.next_token)
        currencies = self._engine.currencies
        currency = message.address.currency
        table = self._table
        table.clear()
        self._entries = list(message.page.items)
        for entry, balance in zip(self._entries, balances, strict=True):
            table.add_row(
                instant_text(entry.effective_at),
                entry.side.value,
                Text(money_text(entry.amount, currency, currencies), justify="right"),
                Text(money_text(balance, currency, currencies), justify="right"),
                entry.description,
                str(entry.transaction_id),
                key=entry.entry_id,
            )
        table.loading = False
        if self._focus_on_load:
            self._focus_on_load = False
            if self.screen.focused is None:
                self.call_after_refresh(self.screen.set_focus, table)
        self._update_panel()

    def _update_panel(self) -> None:
        panel = self.query_one("#partition-panel", Static)
        if self._address is None:
            panel.update(NOTHING_CHOSEN)
            return
        address, pager = self._address, self._pager
        currencies, currency = self._engine.currencies, self._address.currency
        keys = "partition [b]" + " / ".join(address.as_tuple()) + "[/b]"
        bucket = range_bucket(self._range)
        scope = f"bucket {bucket}" if bucket else f"range {self._describe_range()}"
        lines = [keys, scope]
        if pager is not None:
            seen = pager.seen_totals()
            on_page = pager.seen.get(pager.index)
            count = on_page.count if on_page else 0
            first = pager.first_row_number
            rows = f"rows {first}–{first + count - 1}" if count else "no entries in this range"
            more = " · more: n" if pager.has_next else ""
            back = " · back: p" if pager.has_previous else ""
            lines[1] += f" · opening {money_text(pager.starts[0].opening, currency, currencies)}"
            seen_text = plural(seen.count, "entry", "entries")
            lines.append(
                f"page {pager.index + 1} · {rows}{more}{back} · seen {seen_text} · "
                f"debits {money_text(seen.debits, currency, currencies)} · "
                f"credits {money_text(seen.credits, currency, currencies)}"
            )
        panel.update("\n".join(lines))

    def _describe_range(self) -> str:
        start, end = self._range.start, self._range.end
        if start is None and end is None:
            return "all dates"
        return f"{date_text(start) or '…'} → {date_text(end) or '…'}"

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
