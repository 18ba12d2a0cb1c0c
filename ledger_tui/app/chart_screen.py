"""Chart: closing balance per period of an address, a pattern or a named balance.

The screen gathers the request (target, range bar, granularity), reads the series in a worker
and fills the table; the plot itself is ``BalanceChart``, which keeps figures Decimal until it draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from ..domain.address import AddressPattern, parse_pattern
from ..domain.balance import PeriodBalance
from ..domain.errors import ValidationError
from ..domain.periods import Granularity, periods
from ..domain.timeutil import TimeRange, months_ending
from .balance_chart import BalanceChart, period_label
from .failures import with_timeout
from .formatting import date_text, money_text
from .ledger_input import LedgerInput
from .ledger_screen import LedgerScreen
from .range_bar import RangeBar

DEFAULT_MONTHS = 12


@dataclass(frozen=True, slots=True)
class ChartRequest:
    """What was asked for: the target (and its label), the range and the granularity."""

    target: AddressPattern | str
    label: str
    time_range: TimeRange
    granularity: Granularity


class ChartScreen(LedgerScreen):
    """Target and range controls, a line per currency, and the figures in a table beneath."""

    CSS_PATH = "chart_screen.tcss"
    TITLE = "Chart"
    BINDINGS = [
        Binding("ctrl+g", "draw", "Draw"),
        Binding("d", "granularity('day')", "Daily"),
        Binding("w", "granularity('week')", "Weekly"),
        Binding("m", "granularity('month')", "Monthly"),
        Binding("a", "focus_address", "Address"),
    ]

    class BalancesCharted(Message):
        """A balance series arrived for ``request``."""

        def __init__(self, request: ChartRequest, series: list[PeriodBalance]) -> None:
            super().__init__()
            self.request = request
            self.series = series

    def __init__(self) -> None:
        super().__init__()
        self._request: ChartRequest | None = None
        self._stale = False

    def compose(self) -> ComposeResult:
        """Controls, plot, table."""
        time_range = months_ending(self.ledger_app.clock(), DEFAULT_MONTHS)
        named = sorted(self.engine.named_balances)
        yield Header()
        with Vertical(id="chart-controls"):
            with Horizontal(classes="control-row"):
                yield Label("Address", classes="control-label")
                yield LedgerInput(
                    placeholder="LE/NS/NAME/CUR/ACCT (ACCT may be *)", id="chart-address", compact=True
                )
                yield Label("or", classes="control-label")
                named_select: Select[str] = Select(
                    [(name, name) for name in named], prompt="named balance…", id="chart-named", compact=True
                )
                if named:
                    named_select.value = named[0]  # something to draw as soon as the store answers
                yield named_select
            granularity: Select[str] = Select(
                [(g.value, g.value) for g in Granularity], value=Granularity.MONTH.value,
                allow_blank=False, id="chart-granularity", compact=True,
            )  # fmt: skip
            hint = Label("enter or ctrl+g draws", id="chart-hint")
            yield RangeBar(granularity, hint, time_range=time_range, id="chart-range")
        yield Static("Choose an address or a named balance, then press enter.", id="chart-status")
        yield BalanceChart(id="chart-plot")
        table: DataTable[str | Text] = DataTable(id="chart-table", zebra_stripes=True, cursor_type="row")
        table.add_columns("Period", "Currency", "Debits", "Credits", "Closing")
        yield table
        yield Footer(compact=True)

    # -- requests ----------------------------------------------------------------------------

    def _build_request(self) -> ChartRequest:
        """Read the controls into a request; raises ValueError/ValidationError with the reason."""
        address = self.query_one("#chart-address", Input).value.strip()
        named = self.query_one("#chart-named", Select).value
        target: AddressPattern | str
        if address:  # a typed address wins over the (preselected) named balance
            target = parse_pattern(address)
            label = str(target)
        elif isinstance(named, str):
            target, label = named, f"named balance {named}"
        else:
            raise ValueError("choose an address (LE/NS/NAME/CUR/ACCT) or a named balance")
        range_bar = self.query_one(RangeBar)
        if not range_bar.is_bounded:
            raise ValueError("a chart needs both a From and a To date")
        time_range = range_bar.read_range()
        if time_range.is_empty:
            raise ValueError("the range is empty: To must be after From")
        granularity = Granularity(str(self.query_one("#chart-granularity", Select).value))
        periods(time_range, granularity)  # refuses, with the reason, ranges with too many points
        return ChartRequest(target, label, time_range, granularity)

    def action_draw(self) -> None:
        """Validate the controls and fetch the series."""
        try:
            request = self._build_request()
        except (ValueError, ValidationError) as error:
            self.notify(str(error), title="Chart", severity="error")
            return
        self._request = request
        self._fetch(request)

    def _fetch(self, request: ChartRequest) -> None:
        self._stale = False
        self.query_one("#chart-status", Static).update(f"Charting {request.label}…")
        self.query_one(BalanceChart).wait_for_series(request.label)
        self.chart_balances(request)

    @work(exclusive=True, group="chart", exit_on_error=False)
    async def chart_balances(self, request: ChartRequest) -> None:
        """One engine call: the balance series of the target."""
        series = await with_timeout(
            self.engine.balance_series(request.target, request.time_range, request.granularity)
        )
        self.post_message(self.BalancesCharted(request, series))

    def on_chart_screen_balances_charted(self, message: BalancesCharted) -> None:
        """Fill the table and redraw."""
        if message.request != self._request:
            return
        series = message.series
        request = message.request
        currencies = self.engine.currencies
        table: DataTable[str | Text] = self.query_one("#chart-table", DataTable)
        table.clear()
        for point in series:
            table.add_row(
                period_label(point.period.start, request.granularity),
                point.currency,
                Text(money_text(point.debits, point.currency, currencies), justify="right"),
                Text(money_text(point.credits, point.currency, currencies), justify="right"),
                Text(money_text(point.closing, point.currency, currencies), justify="right"),
            )
        count = len({point.currency for point in series})
        scope = f"{date_text(request.time_range.start)} → {date_text(request.time_range.end)}"
        self.query_one("#chart-status", Static).update(
            f"[b]{request.label}[/b] · {scope} · by {request.granularity.value} · "
            f"{count} currenc{'y' if count == 1 else 'ies'}"
        )
        self.query_one(BalanceChart).show_series(request.label, request.granularity, series)

    def call_failed(self, group: str, error: BaseException) -> None:
        """Stop the spinner; the notice says what went wrong."""
        if group == "chart":
            self.query_one(BalanceChart).stop_waiting()
            self.query_one("#chart-status", Static).update("Chart failed — ctrl+r retries.")

    def store_ready(self) -> None:
        """Draw the preselected named balance the first time the store answers."""
        if self._request is None and isinstance(self.query_one("#chart-named", Select).value, str):
            self.action_draw()

    def retry(self) -> None:
        """Redraw the last chart."""
        if self._request is not None:
            self._fetch(self._request)

    def ledger_changed(self) -> None:
        """New entries: redraw when the screen is next shown."""
        self._stale = self._request is not None

    def on_screen_resume(self) -> None:
        """Redraw a chart that new entries made out of date."""
        if self._stale and self._request is not None and self.store_is_ready:
            self._fetch(self._request)

    # -- controls ----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the address draws."""
        event.stop()
        self.action_draw()

    def on_range_bar_range_submitted(self, message: RangeBar.RangeSubmitted) -> None:
        """Enter in a date draws (and the figures take the keys)."""
        self.query_one("#chart-table").focus()
        self.action_draw()

    def on_range_bar_left(self, message: RangeBar.Left) -> None:
        """Escape in a date: to the figures."""
        self.query_one("#chart-table").focus()

    def on_range_bar_range_rejected(self, message: RangeBar.RangeRejected) -> None:
        """Enter in a bad date draws too, which reports the first thing wrong with the controls."""
        self.query_one("#chart-table").focus()
        self.action_draw()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Typing an address deselects the named balance (one target at a time)."""
        if event.input.id == "chart-address" and event.value.strip():
            select: Select[str] = self.query_one("#chart-named", Select)
            if isinstance(select.value, str):
                select.clear()

    def on_select_changed(self, event: Select.Changed) -> None:
        """Picking a named balance clears the address and draws it."""
        if event.select.id == "chart-named" and isinstance(event.value, str):
            self.query_one("#chart-address", Input).value = ""
            if self.store_is_ready:  # before that, store_ready draws the preselected balance
                self.action_draw()
        elif event.select.id == "chart-granularity" and self._request is not None:
            self.action_draw()

    def action_granularity(self, value: str) -> None:
        """Switch day / week / month (redraws if a chart is shown)."""
        self.query_one("#chart-granularity", Select).value = value

    def action_focus_address(self) -> None:
        """Put the cursor in the address field."""
        self.query_one("#chart-address").focus()
