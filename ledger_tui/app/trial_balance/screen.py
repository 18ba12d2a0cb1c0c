"""Trial balance: every account or tree node with opening, debits, credits and closing for a
period, per currency, with totals that prove the books balance; enter drills down.

The grouped levels (legal entity to currency) read the engine's rollups; the account level
folds each account. Both come from balance blocks where they serve and are kept per range, so
changing level does not re-read what is already known. Sets committed elsewhere dated before the
period's end read it again, at most once a second.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Label

from ...domain.changes import Change
from ...domain.model import TREE_DEPTH
from ...domain.timeutil import (
    TimeRange,
    bucket_of,
    month_range,
    range_bucket,
    step_bucket,
)
from ...domain.trial_balance import LEVEL_NAMES, TrialBalance
from ..failures import with_timeout
from ..ledger_screen import ConsoleContext, LedgerScreen, entries_of
from ..messages import AccountPicked
from ..widgets.export_prompt import export_table
from ..widgets.range_bar import RangeBar
from .table import TrialBalanceTable

#: A trial balance of a large ledger folds many nodes: allow it longer than one call.
TRIAL_TIMEOUT_SECONDS = 300.0
#: Where the screen opens: LE/NS/NAME/CUR (rollups: cheap at any number of accounts).
DEFAULT_DEPTH = TREE_DEPTH - 1


class TrialBalanceScreen(LedgerScreen):
    """Range bar, level line, the trial balance table and the totals check."""

    CSS_PATH = "screen.tcss"
    TITLE = "Trial balance"
    AUTO_FOCUS = "#trial-table"  # not the From date: the level and month keys work at once
    BINDINGS = [
        Binding("plus,equals_sign", "depth(1)", "Deeper"),
        Binding("minus", "depth(-1)", "Shallower"),
        Binding("left_square_bracket", "shift_month(-1)", "Prev month"),
        Binding("right_square_bracket", "shift_month(1)", "Next month"),
        Binding("f", "focus_filter", "Date filter"),
        Binding("c", "clear_filter", "All dates"),
        Binding("x", "export", "Export"),
        Binding("enter", "noop", "Open a node one level deeper / an account in browse", show=False),
    ]

    class TrialBalanceRead(Message):
        """A trial balance arrived (the screen's worker result)."""

        def __init__(self, balance: TrialBalance) -> None:
            super().__init__()
            self.balance = balance

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self._range: TimeRange | None = None  # this month, once the app's clock is known
        self._depth = DEFAULT_DEPTH
        self._read: dict[int, TrialBalance] = {}  # by node depth (4 rollups, 5 accounts), this range
        self._cursor_to: tuple[str, ...] | None = None
        self._stale = False

    def compose(self) -> ComposeResult:
        """Header, dates, level, table, totals check, keys."""
        yield Header()
        with Vertical(id="trial-main"):
            yield RangeBar(Label("[ ] month · c all dates · To excluded", id="trial-hint"), id="trial-range")
            yield Label("", id="trial-level")
            yield TrialBalanceTable(id="trial-table")
            yield Label("", id="trial-status")
        yield Footer(compact=True)

    @property
    def _table(self) -> TrialBalanceTable:
        return self.query_one(TrialBalanceTable)

    @property
    def time_range(self) -> TimeRange:
        """The period shown (this month by the app's clock until one is chosen)."""
        if self._range is None:
            self._range = month_range(bucket_of(self.context.clock()))
            self.query_one(RangeBar).set_range(self._range)
        return self._range

    def on_mount(self) -> None:
        """Show the period and level (the base screen then loads if the store is up)."""
        self.query_one(RangeBar).set_range(self.time_range)
        self._show_level()

    # -- loading -------------------------------------------------------------------------------

    def store_ready(self) -> None:
        """(Re)read the trial balance of the period."""
        self._read.clear()
        self._load()

    def ledger_changed(self) -> None:
        """New entries: read again now if shown, else when the screen is next shown."""
        self._stale = True
        if self.is_current:
            self._catch_up()

    def sets_committed(self, changes: Sequence[Change]) -> None:
        """Sets committed elsewhere: any dated before the period's end changes it; read it again
        (at most once a second, without the spinner) if shown, else when next shown."""
        end = self.time_range.end
        if any(end is None or entry.effective_at < end for entry in entries_of(changes)):
            self._stale = True
            if self.is_current:
                self.refresh_live(self._live_catch_up)

    def _live_catch_up(self) -> None:
        if self.is_current:
            self._catch_up(quiet=True)

    def on_screen_resume(self) -> None:
        """Catch up with posts made while another screen was shown."""
        self._catch_up()

    def _catch_up(self, *, quiet: bool = False) -> None:
        if self._stale and self.store_is_ready:
            self._stale = False
            self._read.clear()
            self._load(quiet=quiet)

    def _load(self, *, quiet: bool = False) -> None:
        needed = TREE_DEPTH if self._depth == TREE_DEPTH else TREE_DEPTH - 1
        known = self._read.get(needed) or self._read.get(TREE_DEPTH)
        if known is not None:
            self._show(known)
            return
        if not self.store_is_ready:
            return
        self._table.loading = not quiet
        self.read_trial_balance(self.time_range, needed == TREE_DEPTH)

    @work(exclusive=True, group="trial", exit_on_error=False)
    async def read_trial_balance(self, time_range: TimeRange, per_account: bool) -> None:
        """Fold every node of the period (in the engine, bounded)."""
        balance = await with_timeout(
            self.engine.trial_balance(time_range, per_account=per_account), TRIAL_TIMEOUT_SECONDS
        )
        self.post_message(self.TrialBalanceRead(balance))

    def on_trial_balance_screen_trial_balance_read(self, message: TrialBalanceRead) -> None:
        """Keep it for this period and show it (a read for an older period is dropped)."""
        balance = message.balance
        if balance.time_range != self.time_range:
            return
        self._read[balance.depth] = balance
        self._table.loading = False
        self._load()

    def call_failed(self, group: str, error: BaseException) -> None:
        """A failed read stops the spinner (the notice is shown; ctrl+r reads again)."""
        self._table.loading = False

    def _show(self, balance: TrialBalance) -> None:
        table = self._table
        table.loading = False
        table.show(balance, self._depth, self.engine.currencies)
        if self._cursor_to is not None:
            table.move_to(self._cursor_to)
            self._cursor_to = None
        self._show_level()
        status = self.query_one("#trial-status", Label)
        unbalanced = balance.unbalanced()
        status.set_class(bool(unbalanced), "-unbalanced")
        if unbalanced:
            status.update(f"Debits and credits differ in {', '.join(unbalanced)}: run `ledger-tui verify`.")
        elif balance.totals():
            currencies = ", ".join(total.currency for total in balance.totals())
            held = " Held: pending Dr = pending Cr." if balance.held else ""
            status.update(f"Debits = credits in every currency ({currencies}).{held}")
        else:
            status.update("No entries before the end of this period.")

    def _show_level(self) -> None:
        self.query_one("#trial-level", Label).update(
            f"Level {self._depth}/{TREE_DEPTH} {LEVEL_NAMES[self._depth - 1]} · +/- level · "
            "closing = opening + credits - debits"
        )

    # -- what the operator does ------------------------------------------------------------------

    def action_depth(self, step: int) -> None:
        """One tree level deeper or shallower (the cursor stays on the same node)."""
        depth = max(1, min(TREE_DEPTH, self._depth + step))
        if depth == self._depth:
            return
        line = self._table.line_under_cursor()
        if line is not None and line.path:
            self._cursor_to = line.path[:depth]
        self._depth = depth
        self._show_level()
        self._load()

    def on_trial_balance_table_line_chosen(self, message: TrialBalanceTable.LineChosen) -> None:
        """Enter: an account opens in browse for this period; a node opens one level deeper."""
        line = message.line
        if line.address is not None:
            self.post_message(AccountPicked(line.address, self.time_range))
        elif line.path:
            self._cursor_to = line.path
            self._depth += 1
            self._show_level()
            self._load()

    def _change_range(self, time_range: TimeRange) -> None:
        self._range = time_range
        self.query_one(RangeBar).set_range(time_range)
        self._read.clear()
        self._load()

    def action_shift_month(self, step: int) -> None:
        """The month before or after (from this month when the period is not one month)."""
        bucket = range_bucket(self.time_range)
        if bucket is None:
            start = self.time_range.start
            bucket = bucket_of(start if start is not None else self.context.clock())
        else:
            bucket = step_bucket(bucket, step)
        self._change_range(month_range(bucket))

    def action_clear_filter(self) -> None:
        """Every date: openings are zero, movements are everything."""
        self._change_range(TimeRange())

    def action_focus_filter(self) -> None:
        """Put the cursor in the From date."""
        self.query_one(RangeBar).focus_start()

    def on_range_bar_range_submitted(self, message: RangeBar.RangeSubmitted) -> None:
        """Read the typed period."""
        self._table.focus()
        self._change_range(message.time_range)

    def on_range_bar_left(self, message: RangeBar.Left) -> None:
        """Escape in a date: back to the table."""
        self._table.focus()

    def on_range_bar_range_rejected(self, message: RangeBar.RangeRejected) -> None:
        """Say why the typed period cannot be used."""
        self.notify(message.reason, title="Date range", severity="error")

    def action_export(self) -> None:
        """Export the lines shown and the totals to CSV or JSON."""
        needed = TREE_DEPTH if self._depth == TREE_DEPTH else TREE_DEPTH - 1
        balance = self._read.get(needed) or self._read.get(TREE_DEPTH)
        if balance is None:
            self.notify("Nothing to export yet.", timeout=3)
            return
        export_table(self, "trial-balance", balance.export(self._depth))

    def action_noop(self) -> None:
        """Placeholder so 'enter' is listed in the help (the table handles it)."""
