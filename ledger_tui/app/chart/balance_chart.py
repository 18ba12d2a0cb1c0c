"""A plot of closing balances, one line per currency, that redraws itself at any size.

Figures arrive as Decimal and become floats only while the picture is drawn, because a chart
is a picture of the numbers, never a place to keep them. With nothing to draw it shows a
short note in the plot's place instead.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual import events
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from ...domain.balance import PeriodBalance
from ...domain.timeutil import Granularity

NOTHING_YET = "No data to chart yet."


def period_label(start: datetime | None, granularity: Granularity) -> str:
    """Short label of a period for the axis and the table."""
    if start is None:
        return "—"
    return start.strftime("%Y-%m") if granularity is Granularity.MONTH else start.strftime("%Y-%m-%d")


class BalanceChart(PlotextPlot):
    """Closing balance per period of one target, or a note when there is nothing to draw."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label: str | None = None
        self._granularity = Granularity.MONTH
        self._series: list[PeriodBalance] = []
        self._pending: str | None = None  # the label of a series being read (no verdict until it lands)

    def on_mount(self) -> None:
        """Start with the 'nothing yet' note."""
        self._replot()

    def show_series(self, label: str, granularity: Granularity, series: list[PeriodBalance]) -> None:
        """Draw ``series`` (the closing balances of ``label``) and stop the spinner."""
        self._label, self._granularity, self._series = label, granularity, series
        self._pending = None
        self.loading = False
        self._replot()

    def wait_for_series(self, label: str) -> None:
        """Spin over a drawn plot while a new series is read; without one, say what is loading."""
        self._pending = label
        self.loading = not self.has_class("-empty")
        self.refresh()

    def stop_waiting(self) -> None:
        """The read failed: drop the spinner and the 'loading' note."""
        self._pending = None
        self.loading = False
        self.refresh()

    @property
    def note(self) -> str:
        """What is shown instead of a plot ('' while a plot is drawn)."""
        if self._series:
            return ""
        if self._pending is not None:  # never "no entries" before the answer came back
            return f"Loading {self._pending}…"
        return NOTHING_YET if self._label is None else f"No entries for {self._label} in this range."

    def _replot(self) -> None:
        """Draw one line per currency (floats exist only here, for the picture)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.set_class(not self._series, "-empty")
        if self._series:
            currencies = sorted({point.currency for point in self._series})
            granularity = self._granularity
            # Dates on the x axis let plotext place its own ticks (custom tick lists are placed in an
            # order that depends on string hashing, which made the picture differ from run to run).
            plt.date_form("Y-m" if granularity is Granularity.MONTH else "Y-m-d")
            for currency in currencies:
                points = [point for point in self._series if point.currency == currency]
                plot_x = [period_label(point.period.start, granularity) for point in points]
                plot_y = [float(point.closing) for point in points]
                plt.plot(plot_x, plot_y, label=currency, marker="braille")
            plt.title(f"Closing balance · {self._label}")
        self.refresh()

    def render(self) -> RenderResult:
        """The plot, or the note when there is nothing to draw."""
        return self.note or super().render()

    def on_resize(self, event: events.Resize) -> None:
        """Redraw at the new size, rebuilding the figure from the kept series (as Dolphie's graphs do)."""
        self._replot()
