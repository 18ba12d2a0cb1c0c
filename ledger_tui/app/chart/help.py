"""What the chart's numbers mean (opening balance, buckets, ``*`` patterns, currencies, as-of).

Key lists (F1) say which key does what; this says how to read the picture, which is where a
new operator's questions about the chart actually are.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

CHART_HELP = (
    "[b]Reading the chart[/b]  (escape closes)\n\n"
    "[u]Closing balance[/u]  Each point is the balance at the end of its period: the [b]opening "
    "balance[/b] (everything before From, however old) plus credits minus debits of the period. "
    "The first point is not zero unless the target was empty before From.\n\n"
    "[u]Buckets[/u]  d / w / m draw one point per day, week or month. A period is \\[From, To): "
    "To is exclusive, so To 2024-12-01 ends with the last moment of November. Entries count by "
    "their effective time, in UTC.\n\n"
    "[u]Targets[/u]  An address LE/NS/NAME/CUR/ACCT, or a named balance (a saved set of "
    "patterns, listed with its description). [b]*[/b] is any value at its level:\n"
    "  fintech_uk/com.fintech.customer/current/GBP/*  GBP current accounts\n"
    "  fintech_uk/*/*/GBP/*    everything fintech_uk holds in GBP\n"
    "  */*/*/EUR/*             every EUR account of every entity\n\n"
    "[u]Currencies[/u]  Balances are never added across currencies. The Currency selector (or c) "
    'picks the one drawn, on its own y-axis; "all" puts every currency on one axis (sensible '
    "only when their sizes are alike). The table follows the selector; x exports every "
    "currency.\n\n"
    "[u]As of[/u]  A recorded time (date or ISO instant, UTC): what the ledger held then, "
    "without entries recorded later (back-dated corrections included). Blank: now. The status "
    'line says "as of ..." whenever one is set.'
)


class ChartHelp(ModalScreen[None]):
    """A modal explaining the chart; escape, q or e closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q,e", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        """The explanation, scrollable on small terminals."""
        with VerticalScroll(id="chart-help-body"):
            yield Static(CHART_HELP, id="chart-help-text")

    async def action_dismiss(self, result: None = None) -> None:
        """Close the explanation."""
        self.dismiss(result)
