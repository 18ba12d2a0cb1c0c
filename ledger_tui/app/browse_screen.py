"""Browse: the account tree (loaded lazily, paged) and one page of a partition's entries.

Tree levels are legal_entity > namespace > name > currency > account_id > monthly bucket;
every level is fetched when first expanded so a ledger of any size opens instantly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Static, Tree
from textual.widgets.tree import TreeNode

from ..domain.model import ADDRESS_FIELDS, TREE_DEPTH, Address, Entry
from ..domain.paging import Page, PageToken
from ..domain.timeutil import (
    TimeRange,
    bucket_of,
    following_bucket,
    month_range,
    parse_instant,
    previous_bucket,
    range_bucket,
)
from .entry_pager import EntryPager, PageStart
from .failures import with_timeout
from .formatting import date_text, instant_text, money_text
from .ledger_input import LedgerInput
from .ledger_screen import LedgerScreen
from .transaction_detail import Jump, TransactionDetail

TREE_PAGE_SIZE = 200
ENTRY_PAGE_SIZE = 100
LEVEL_NAMES = (*ADDRESS_FIELDS, "bucket")


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What a tree node stands for: a level of the account path, a bucket, or 'more…'."""

    kind: Literal["level", "bucket", "more"]
    path: tuple[str, ...]
    token: PageToken | None = None
    bucket: str | None = None


class BrowseScreen(LedgerScreen):
    """Account tree on the left; partition panel and one page of entries on the right."""

    CSS_PATH = "browse_screen.tcss"
    TITLE = "Browse"
    BINDINGS = [
        Binding("n", "next_page", "Next page"),
        Binding("p", "previous_page", "Prev page"),
        Binding("left_square_bracket", "shift_month(-1)", "Prev month"),
        Binding("right_square_bracket", "shift_month(1)", "Next month"),
        Binding("f", "focus_filter", "Date filter"),
        Binding("c", "clear_filter", "All dates"),
        Binding("e", "focus_entries", "Entries"),
        Binding("t", "focus_tree", "Tree", show=False),
        Binding("enter", "noop", "Open node / entry (transaction detail)", show=False),
    ]

    class ChildrenLoaded(Message):
        """One page of a tree node's children arrived."""

        def __init__(self, node: TreeNode[NodeInfo], page: Page[str]) -> None:
            super().__init__()
            self.node = node
            self.page = page

    class BucketsLoaded(Message):
        """An account's monthly buckets arrived."""

        def __init__(self, node: TreeNode[NodeInfo], buckets: list[str]) -> None:
            super().__init__()
            self.node = node
            self.buckets = buckets

    class PageLoaded(Message):
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

    def __init__(self) -> None:
        super().__init__()
        self._page_request = 0  # numbers page reads: only the latest one's answer is shown
        self._loaded: set[int] = set()
        self._address: Address | None = None
        self._range = TimeRange()
        self._pager: EntryPager | None = None
        self._entries: list[Entry] = []
        self._reveal: tuple[str, ...] | None = None
        self._stale = False

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Tree | (filter bar, partition panel, entries table, empty state)."""
        yield Header()
        with Horizontal(id="browse-main"):
            tree: Tree[NodeInfo] = Tree("ledger", data=NodeInfo("level", ()), id="account-tree")
            tree.show_root = False
            tree.guide_depth = 2
            yield tree
            with Vertical(id="browse-right"):
                with Horizontal(id="range-bar"):
                    yield Label("From", classes="range-label")
                    yield LedgerInput(placeholder="YYYY-MM-DD", id="range-from", compact=True)
                    yield Label("To", classes="range-label")
                    yield LedgerInput(placeholder="YYYY-MM-DD", id="range-to", compact=True)
                    yield Label("[ ] month · c all dates", id="range-hint")
                yield Static("Select an account or a month in the tree.", id="partition-panel")
                table: DataTable[str | Text] = DataTable(id="entries", cursor_type="row", zebra_stripes=True)
                table.add_column("Effective (UTC)", key="effective")
                table.add_column("Side", key="side")
                table.add_column("Amount", key="amount")
                table.add_column("Balance", key="balance")
                table.add_column("Description", key="description")
                table.add_column("Transaction", key="transaction")
                yield table
                yield Static("", id="empty-state")
        yield Footer(compact=True)

    # -- loading the tree --------------------------------------------------------------------

    def store_ready(self) -> None:
        """(Re)load the top of the tree, and the entries on screen if any."""
        tree: Tree[NodeInfo] = self.query_one(Tree)
        tree.clear()
        self._loaded.clear()
        tree.loading = True
        self._load_node(tree.root)
        pending = self.ledger_app.initial_account
        if pending is not None:
            self.ledger_app.initial_account = None
            address, bucket = pending
            self.set_range(month_range(bucket))
            self.show_entries(address)
            self._reveal = (*address.as_tuple(), bucket)  # walked as the tree's levels arrive
        elif self._address is not None:
            self._load_first_page()

    def ledger_changed(self) -> None:
        """New entries: rebuild the tree and the page on screen when the screen is next shown."""
        self._stale = True

    def on_screen_resume(self) -> None:
        """Catch up with entries posted while another screen was shown."""
        if self._stale and self.store_is_ready:
            self._stale = False
            if self._address is not None:
                bucket = range_bucket(self._range)
                self._reveal = (*self._address.as_tuple(), *([bucket] if bucket else []))
            self.store_ready()

    def retry(self) -> None:
        """Repeat the entries query if one is shown (or was asked for), else reload the tree."""
        if self._address is not None and self._pager is not None:
            self._load_page(self._address, self._range, self._pager.current, first=False)
        elif self._address is not None:  # the first page never arrived: ask again, keep the tree
            self._load_first_page()
        else:
            self.store_ready()

    def _load_node(self, node: TreeNode[NodeInfo], token: PageToken | None = None) -> None:
        info = node.data
        if info is None:
            return
        self._loaded.add(node.id)
        group = f"tree-{node.id}"
        if len(info.path) == TREE_DEPTH:
            self.run_worker(self._fetch_buckets(node), group=group, exclusive=True, exit_on_error=False)
        else:
            self.run_worker(
                self._fetch_children(node, token), group=group, exclusive=True, exit_on_error=False
            )

    async def _fetch_children(self, node: TreeNode[NodeInfo], token: PageToken | None) -> None:
        """One page of a node's children."""
        assert node.data is not None
        page = await with_timeout(self.engine.children(node.data.path, TREE_PAGE_SIZE, token))
        self.post_message(self.ChildrenLoaded(node, page))

    async def _fetch_buckets(self, node: TreeNode[NodeInfo]) -> None:
        """An account's buckets."""
        assert node.data is not None
        buckets = await with_timeout(self.engine.buckets(Address(*node.data.path)))
        self.post_message(self.BucketsLoaded(node, buckets))

    def on_browse_screen_children_loaded(self, message: ChildrenLoaded) -> None:
        """Add a page of children (and a 'more…' node when the level has more)."""
        tree: Tree[NodeInfo] = self.query_one(Tree)
        node, page = message.node, message.page
        assert node.data is not None
        path = node.data.path
        for child in page.items:
            level = len(path)
            label = Text(child)
            if level == TREE_DEPTH - 1:
                label.stylize("bold")
            node.add(label, data=NodeInfo("level", (*path, child)), allow_expand=True)
        if page.next_token is not None:
            node.add_leaf(Text("more…", style="italic"), data=NodeInfo("more", path, page.next_token))
        if node.is_root:
            tree.loading = False
            self._show_empty_state(not node.children)
            if node.children and self._address is None:
                tree.focus()
        self._continue_reveal(node)

    def on_browse_screen_buckets_loaded(self, message: BucketsLoaded) -> None:
        """Add one leaf per month bucket."""
        node = message.node
        assert node.data is not None
        for bucket in message.buckets:
            node.add_leaf(bucket, data=NodeInfo("bucket", node.data.path, bucket=bucket))
        if not message.buckets:
            node.add_leaf(Text("no entries", style="italic"), data=None)
        self._continue_reveal(node)

    def _show_empty_state(self, empty: bool) -> None:
        note = self.query_one("#empty-state", Static)
        note.update(
            "The ledger is empty.\n\nPost an entry set in Compose (F2), or fill a demo ledger with\n"
            "  ledger-tui load-sample --transactions 300"
            if empty
            else ""
        )
        note.display = empty
        self.query_one("#entries").display = not empty
        self.query_one("#partition-panel").display = not empty

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeInfo]) -> None:
        """Load a node's children the first time it opens."""
        node = event.node
        if node.id not in self._loaded and node.data is not None and node.data.kind == "level":
            self._load_node(node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeInfo]) -> None:
        """An account shows its entries in the date filter; a bucket shows that month; 'more…' pages."""
        info = event.node.data
        if info is None:
            return
        if info.kind == "more":
            parent = event.node.parent
            event.node.remove()
            if parent is not None:
                self._load_node(parent, info.token)
        elif info.kind == "bucket" and info.bucket is not None:
            self.set_range(month_range(info.bucket))
            self.show_entries(Address(*info.path))
        elif len(info.path) == TREE_DEPTH:
            self.show_entries(Address(*info.path))

    def call_failed(self, group: str, error: BaseException) -> None:
        """Let a failed tree node be expanded again; stop spinners."""
        if group.startswith("tree-"):
            self._loaded.discard(int(group.removeprefix("tree-")))
            self.query_one(Tree).loading = False
        elif group == "entries":
            self.query_one("#entries", DataTable).loading = False

    # -- entries -----------------------------------------------------------------------------

    def show_entries(self, address: Address) -> None:
        """Show the first page of ``address`` in the current date range."""
        self._address = address
        self._load_first_page()

    def _load_first_page(self) -> None:
        assert self._address is not None
        self._pager = None
        self._load_page(self._address, self._range, PageStart(None, Decimal(0)), first=True)

    def _load_page(self, address: Address, time_range: TimeRange, start: PageStart, *, first: bool) -> None:
        self.query_one("#entries", DataTable).loading = True
        self._page_request += 1
        self.fetch_page(self._page_request, address, time_range, start.token, first)

    @work(exclusive=True, group="entries", exit_on_error=False)
    async def fetch_page(
        self, request: int, address: Address, time_range: TimeRange, token: PageToken | None, first: bool
    ) -> None:
        """One page of entries; a first page also reads the opening balance before the range."""
        opening: Decimal | None = None
        if first:
            opening = Decimal(0)
            if time_range.start is not None:
                rows = await with_timeout(self.engine.balance(address, TimeRange(None, time_range.start)))
                for row in rows:
                    if row.currency == address.currency:
                        opening = row.closing
        page = await with_timeout(self.engine.entries(address, time_range, ENTRY_PAGE_SIZE, token))
        self.post_message(self.PageLoaded(request, address, time_range, page, opening))

    def on_browse_screen_page_loaded(self, message: PageLoaded) -> None:
        """Replace the table with the new page and update the partition panel."""
        if message.request != self._page_request:
            return  # an answer to a read the operator has since replaced (another page, account, range)
        if message.opening is not None or self._pager is None:
            self._pager = EntryPager.starting_at(message.opening or Decimal(0))
        pager = self._pager
        balances = pager.page_loaded(message.page.items, message.page.next_token)
        currencies = self.engine.currencies
        currency = message.address.currency
        table: DataTable[str | Text] = self.query_one("#entries", DataTable)
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
        self._update_panel()

    def _update_panel(self) -> None:
        panel = self.query_one("#partition-panel", Static)
        if self._address is None:
            panel.update("Select an account or a month in the tree.")
            return
        address, pager = self._address, self._pager
        currencies, currency = self.engine.currencies, self._address.currency
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
            lines.append(
                f"page {pager.index + 1} · {rows}{more}{back} · seen {seen.count} entries · "
                f"debits {money_text(seen.debits, currency, currencies)} · "
                f"credits {money_text(seen.credits, currency, currencies)}"
            )
        panel.update("\n".join(lines))

    def _describe_range(self) -> str:
        start, end = self._range.start, self._range.end
        if start is None and end is None:
            return "all dates"
        return f"{date_text(start) or '…'} → {date_text(end) or '…'}"

    def action_next_page(self) -> None:
        """Next page of entries, if any."""
        if self._address is None or self._pager is None:
            return
        start = self._pager.go_next()
        if start is None:
            self.notify("This is the last page.", timeout=3)
            return
        self._load_page(self._address, self._range, start, first=False)

    def action_previous_page(self) -> None:
        """Previous page of entries (re-read from its saved token)."""
        if self._address is None or self._pager is None:
            return
        start = self._pager.go_previous()
        if start is None:
            self.notify("This is the first page.", timeout=3)
            return
        self._load_page(self._address, self._range, start, first=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on an entry opens its transaction."""
        if event.data_table.id != "entries" or not 0 <= event.cursor_row < len(self._entries):
            return
        entry = self._entries[event.cursor_row]
        self.app.push_screen(TransactionDetail(entry.transaction_id), self._jump)

    def _jump(self, target: Jump | None) -> None:
        """Show the leg's account in its bucket, and open the tree down to it."""
        if target is None:
            return
        address, bucket = target
        self.set_range(month_range(bucket))
        self.show_entries(address)
        self._reveal = (*address.as_tuple(), bucket)
        self._continue_reveal(self.query_one(Tree).root)

    def _continue_reveal(self, node: TreeNode[NodeInfo]) -> None:
        """Walk the tree toward ``_reveal`` one loaded level at a time."""
        target = self._reveal
        if target is None or node.data is None:
            return
        depth = len(node.data.path)
        if node.data.path != target[:depth] or node.id not in self._loaded:
            return
        if not node.is_root and not node.is_expanded:
            node.expand()
            return  # children arrive later; this is called again then
        for child in node.children:
            info = child.data
            if info is None:
                continue
            if info.kind == "bucket" and info.bucket == target[-1]:
                self._reveal = None
                self.query_one(Tree).move_cursor(child)
                return
            if info.kind == "level" and info.path == target[: len(info.path)]:
                if child.id in self._loaded:
                    child.expand()
                    self._continue_reveal(child)
                else:
                    child.expand()  # triggers the load, whose handler continues the walk
                return
        self._reveal = None  # not on the loaded page(s): leave the tree as it is

    # -- date range --------------------------------------------------------------------------

    def set_range(self, time_range: TimeRange) -> None:
        """Set the date filter (and its inputs); the caller decides what to reload."""
        self._range = time_range
        self.query_one("#range-from", Input).value = date_text(time_range.start)
        self.query_one("#range-to", Input).value = date_text(time_range.end)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the typed date range."""
        event.stop()
        try:
            start = self._parse_bound("#range-from")
            end = self._parse_bound("#range-to")
            time_range = TimeRange(start, end)
        except ValueError as error:
            self.notify(str(error), title="Date range", severity="error")
            return
        self._range = time_range
        if self._address is not None:
            self._load_first_page()
        self._update_panel()
        self.query_one("#entries").focus()

    def _parse_bound(self, selector: str) -> datetime | None:
        text = self.query_one(selector, Input).value.strip()
        return parse_instant(text) if text else None

    def action_shift_month(self, step: int) -> None:
        """Move the range one month back or forward (from this month if no range is set)."""
        start = self._range.start
        bucket = bucket_of(start) if start is not None else bucket_of(self.ledger_app.clock())
        if start is not None and range_bucket(self._range) is not None:
            bucket = previous_bucket(bucket) if step < 0 else following_bucket(bucket)
        self.set_range(month_range(bucket))
        if self._address is not None:
            self._load_first_page()
        self._update_panel()

    def action_clear_filter(self) -> None:
        """Show all dates."""
        self.set_range(TimeRange())
        if self._address is not None:
            self._load_first_page()
        self._update_panel()

    def action_focus_filter(self) -> None:
        """Put the cursor in the From date."""
        self.query_one("#range-from").focus()

    def action_focus_entries(self) -> None:
        """Move to the entries table (enter there opens a transaction)."""
        self.query_one("#entries").focus()

    def action_focus_tree(self) -> None:
        """Back to the tree."""
        self.query_one(Tree).focus()

    def action_noop(self) -> None:
        """Placeholder so 'enter' is listed in the help (the focused widget handles it)."""
