"""Chart: closing balance per period of an address, a pattern or a named balance.

The screen gathers the request (target, range bar, granularity, as-of), reads the series in a
worker and fills the table; the plot itself is ``BalanceChart``, which keeps figures Decimal
until it draws. Currencies are never mixed on one axis unless asked: a selector picks the one
drawn (plotext has two y-axes at most, so one axis per currency does not scale past two).
Sets committed elsewhere on the charted accounts redraw it, at most once a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static
from textual.widgets.select import NoSelection

from ...domain.address import AddressPattern, parse_pattern
from ...domain.balance import PeriodBalance
from ...domain.changes import Change
from ...domain.errors import ValidationError
from ...domain.timeutil import Granularity, TimeRange, months_ending, parse_instant, periods
from ..failures import with_timeout
from ..ledger_screen import ConsoleContext, LedgerScreen, entries_of
from ..widgets.export_prompt import export_table
from ..widgets.formatting import date_text, instant_text, money_text
from ..widgets.ledger_input import LedgerInput
from ..widgets.range_bar import RangeBar
from .balance_chart import BalanceChart, period_label
from .help import ChartHelp
from .series import ALL_CURRENCIES, currencies_of, series_kind, series_table, shown_points

DEFAULT_MONTHS = 12


@dataclass(frozen=True, slots=True)
class ChartRequest:
    """What was asked for: the target (and its label), the range, the granularity and as-of."""

    target: AddressPattern | str
    label: str
    time_range: TimeRange
    granularity: Granularity
    as_of: datetime | None = None
    description: str = ""

    @property
    def scope(self) -> str:
        """The range, granularity and as-of in words, for the status line."""
        start, end = date_text(self.time_range.start), date_text(self.time_range.end)
        text = f"{start} → {end} by {self.granularity.value}"
        return text if self.as_of is None else f"{text} · as of {instant_text(self.as_of)} UTC"


class ChartScreen(LedgerScreen):
    """Target and range controls, a line per currency, and the figures in a table beneath."""

    CSS_PATH = "screen.tcss"
    TITLE = "Chart"
    BINDINGS = [
        Binding("ctrl+g", "draw", "Draw"),
        Binding("d", "granularity('day')", "Daily", show=False),
        Binding("w", "granularity('week')", "Weekly", show=False),
        Binding("m", "granularity('month')", "Monthly", show=False),
        Binding("a", "focus_address", "Address", show=False),
        Binding("c", "next_currency", "Currency"),
        Binding("o", "focus_as_of", "As of", show=False),
        Binding("x", "export", "Export"),
        Binding("e", "explain", "Explain", show=False),
    ]

    class BalancesCharted(Message):
        """A balance series arrived for ``request``."""

        def __init__(self, request: ChartRequest, series: list[PeriodBalance]) -> None:
            super().__init__()
            self.request = request
            self.series = series

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self._request: ChartRequest | None = None
        self._stale = False
        self._series: list[PeriodBalance] = []  # the last series drawn (every currency)

    def compose(self) -> ComposeResult:
        """Controls, plot, table."""
        time_range = months_ending(self.context.clock(), DEFAULT_MONTHS)
        named = sorted(self.engine.named_balances.values(), key=lambda balance: balance.name)
        yield Header()
        with Vertical(id="chart-controls"):
            with Horizontal(classes="control-row"):
                yield Label("Address", classes="control-label")
                yield LedgerInput(
                    placeholder="LE/NS/NAME/CUR/ACCT, * any part", id="chart-address", compact=True
                )
                yield Label("or", classes="control-label")
                options = [
                    (named_label(balance.name, balance.description), balance.name) for balance in named
                ]
                # Preselected, so there is something to draw as soon as the store answers (given to
                # the constructor: a value set before mounting is kept but not shown).
                first: str | NoSelection = named[0].name if named else Select.NULL
                named_select: Select[str] = Select(
                    options, prompt="named balance…", value=first, id="chart-named", compact=True
                )
                yield named_select
            granularity: Select[str] = Select(
                [(g.value, g.value) for g in Granularity], value=Granularity.MONTH.value,
                allow_blank=False, id="chart-granularity", compact=True,
            )  # fmt: skip
            yield RangeBar(granularity, time_range=time_range, id="chart-range")
            with Horizontal(classes="control-row"):
                yield Label("As of", classes="control-label")
                yield LedgerInput(placeholder="date/time; blank: now", id="chart-as-of", compact=True)
                yield Label("Currency", classes="control-label")
                currency: Select[str] = Select([], prompt="—", id="chart-currency", compact=True)
                yield currency
                yield Label("enter draws, e: help", id="chart-hint")
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
            target = parse_pattern(address, any_level=True)
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
        as_of_text = self.query_one("#chart-as-of", Input).value.strip()
        try:
            as_of = parse_instant(as_of_text) if as_of_text else None
        except ValueError as error:
            raise ValueError(f"As of: {error}") from None
        description = self.engine.named_balances[target].description if isinstance(target, str) else ""
        return ChartRequest(target, label, time_range, granularity, as_of, description)

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
            self.engine.balance_series(request.target, request.time_range, request.granularity, request.as_of)
        )
        self.post_message(self.BalancesCharted(request, series))

    def on_chart_screen_balances_charted(self, message: BalancesCharted) -> None:
        """Offer the series' currencies, then fill the table and redraw."""
        if message.request != self._request:
            return
        self._series = message.series
        found = currencies_of(message.series)
        select: Select[str] = self.query_one("#chart-currency", Select)
        keep = select.value if isinstance(select.value, str) and select.value in found else None
        options = [(code, code) for code in found]
        if len(found) > 1:
            options.append(("all", ALL_CURRENCIES))
        with self.prevent(Select.Changed):  # the redraw below is the one this choice needs
            select.set_options(options)
            if found:
                select.value = keep or found[0]
        self._show()

    def _shown_currency(self) -> str | None:
        value = self.query_one("#chart-currency", Select).value
        return value if isinstance(value, str) else None

    def _show(self) -> None:
        """Draw the chosen currency of the last series and list its figures."""
        request = self._request
        if request is None:
            return
        currency = self._shown_currency()
        points = shown_points(self._series, currency) if currency is not None else []
        currencies = self.engine.currencies
        table: DataTable[str | Text] = self.query_one("#chart-table", DataTable)
        table.clear()
        for point in points:
            table.add_row(
                period_label(point.period.start, request.granularity),
                point.currency,
                Text(money_text(point.debits, point.currency, currencies), justify="right"),
                Text(money_text(point.credits, point.currency, currencies), justify="right"),
                Text(money_text(point.closing, point.currency, currencies), justify="right"),
            )
        found = currencies_of(self._series)
        if not found:
            which = "no entries"
        elif len(found) == 1:
            which = found[0]
        elif currency == ALL_CURRENCIES:
            which = f"all {len(found)} currencies on one axis (c: one currency)"
        else:
            which = f"{currency}, 1 of {len(found)} currencies (c: next)"
        described = f" ({request.description})" if request.description else ""
        self.query_one("#chart-status", Static).update(
            f"[b]{request.label}[/b]{described} · {request.scope} · {which}"
        )
        title = (
            request.label if request.as_of is None else f"{request.label} · as of {date_text(request.as_of)}"
        )
        self.query_one(BalanceChart).show_series(title, request.granularity, points)

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
        """New entries: redraw now if shown, else when the screen is next shown."""
        self._stale = self._request is not None
        if self.is_current:
            self._catch_up()

    def sets_committed(self, changes: Sequence[Change]) -> None:
        """Sets committed elsewhere on the charted accounts, dated before the range's end, redraw it
        (at most once a second, the plot kept until the new series arrives); an as-of chart stays."""
        request = self._request
        if request is None or request.as_of is not None:
            return
        target = request.target
        named = self.engine.named_balances.get(target) if isinstance(target, str) else None
        patterns = (target,) if isinstance(target, AddressPattern) else named.patterns if named else ()
        end = request.time_range.end
        if any(
            (end is None or entry.effective_at < end) and any(p.matches(entry.address) for p in patterns)
            for entry in entries_of(changes)
        ):
            self._stale = True
            if self.is_current:
                self.refresh_live(self._live_redraw)

    def _live_redraw(self) -> None:
        if self.is_current and self._stale and self._request is not None and self.store_is_ready:
            self._stale = False
            self.chart_balances(self._request)

    def on_screen_resume(self) -> None:
        """Redraw a chart that new entries made out of date."""
        self._catch_up()

    def _catch_up(self) -> None:
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
        elif event.select.id == "chart-currency":
            self._show()

    def action_granularity(self, value: str) -> None:
        """Switch day / week / month (redraws if a chart is shown)."""
        self.query_one("#chart-granularity", Select).value = value

    def action_focus_address(self) -> None:
        """Put the cursor in the address field."""
        self.query_one("#chart-address").focus()

    def action_focus_as_of(self) -> None:
        """Put the cursor in the as-of field."""
        self.query_one("#chart-as-of").focus()

    def action_next_currency(self) -> None:
        """Draw the next currency of the series (then all of them on one axis, then the first)."""
        select: Select[str] = self.query_one("#chart-currency", Select)
        values = [*currencies_of(self._series)]
        if len(values) > 1:
            values.append(ALL_CURRENCIES)
        if len(values) < 2:
            self.notify("The chart holds one currency.", timeout=3)
            return
        current = self._shown_currency()
        at = values.index(current) if current in values else -1
        select.value = values[(at + 1) % len(values)]

    def action_export(self) -> None:
        """Export the drawn series, every currency (period, currency, debits, credits, closing)."""
        if self._request is None or not self._series:
            self.notify(
                "Draw a chart first: there is no series to export.", title="Export", severity="warning"
            )
            return
        table = series_table(self._series, self.engine.currencies)
        export_table(
            cast("Screen[object]", self), series_kind(self._request.label, self._request.granularity), table
        )

    def action_explain(self) -> None:
        """How to read the chart: opening balance, buckets, * patterns, currencies, as-of."""
        self.app.push_screen(ChartHelp())


def named_label(name: str, description: str) -> str:
    """A named balance as the selector lists it: its name and, after it, its description."""
    return f"{name} · {description}" if description else name
