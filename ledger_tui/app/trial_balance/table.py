"""The trial balance as a table: one row per tree node and currency, then one total per currency.

Figures are the domain's exact Decimals in each currency's digits; the widget only lays them
out and tells its screen which line was chosen.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ...domain.money import Currencies
from ...domain.trial_balance import TrialBalance, TrialLine
from ..widgets.formatting import money_text

COLUMNS = ("Account", "Cur", "Opening", "Debits", "Credits", "Closing", "Entries")
#: Shown only while something is held, so a ledger without holds keeps its width.
HELD_COLUMNS = ("Pending Dr", "Pending Cr")
#: Columns beside the account's (currency, four amounts, entries, cell padding), and the held ones.
OTHER_COLUMNS_WIDTH = 56
HELD_COLUMNS_WIDTH = 28
#: The account column never gets narrower than this: a long address loses its start instead.
MIN_LABEL_WIDTH = 16


def fitted(label: str, width: int) -> str:
    """``label`` cut at the start to ``width`` (the account id and currency are what tell rows apart)."""
    return label if len(label) <= width else "…" + label[len(label) - width + 1 :]


class TrialBalanceTable(DataTable[Text]):
    """Rows of a trial balance at one depth; enter on a row reports it as chosen."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    class LineChosen(Message):
        """Enter on a line (a node to open one level deeper, or an account to browse)."""

        def __init__(self, line: TrialLine) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._lines: list[TrialLine] = []
        self._shown: tuple[TrialBalance, int, Currencies] | None = None

    def on_mount(self) -> None:
        """The columns, once."""
        for name in COLUMNS:
            self.add_column(name, key=name.lower())

    def show(self, balance: TrialBalance, depth: int, currencies: Currencies) -> None:
        """Replace the rows with ``balance``'s lines at ``depth`` and its totals."""
        self._shown = (balance, depth, currencies)
        lines = balance.lines(depth)
        totals = balance.totals()
        row = self.cursor_row
        self.clear()
        self._lines = [*lines, *totals]
        held = balance.held
        self._show_held_columns(held)
        others = OTHER_COLUMNS_WIDTH + (HELD_COLUMNS_WIDTH if held else 0)
        width = max(MIN_LABEL_WIDTH, self.app.size.width - others)
        for line in lines:
            self.add_row(*self._cells(line, currencies, width, total=False, held=held))
        for line in totals:
            self.add_row(*self._cells(line, currencies, width, total=True, held=held))
        self.move_cursor(row=min(row, len(self._lines) - 1))

    def _show_held_columns(self, held: bool) -> None:
        """Add the pending columns while something is held; drop them when nothing is."""
        keys = [name.lower() for name in HELD_COLUMNS]
        shown = keys[0] in self.columns
        if held and not shown:
            for name, key in zip(HELD_COLUMNS, keys, strict=True):
                self.add_column(name, key=key)
        elif shown and not held:
            for key in keys:
                self.remove_column(key)

    def on_resize(self) -> None:
        """A new width re-fits the account column (an 80-column terminal keeps every amount)."""
        if self._shown is not None:
            self.show(*self._shown)

    @staticmethod
    def _cells(line: TrialLine, currencies: Currencies, width: int, *, total: bool, held: bool) -> list[Text]:
        style = "bold" if total else ""

        def amount(value: Decimal) -> Text:
            return Text(money_text(value, line.currency, currencies), style=style, justify="right")

        pending = [amount(line.pending_debits), amount(line.pending_credits)] if held else []
        return [
            Text(f"Total {line.currency}" if total else fitted(line.label, width), style=style),
            Text(line.currency, style=style),
            *(amount(value) for value in (line.opening, line.debits, line.credits, line.closing)),
            Text(f"{line.count:,}", style=style, justify="right"),
            *pending,
        ]

    def line_under_cursor(self) -> TrialLine | None:
        """The line the cursor is on (None: an empty table)."""
        if 0 <= self.cursor_row < len(self._lines) and self.row_count:
            return self._lines[self.cursor_row]
        return None

    def move_to(self, path: tuple[str, ...]) -> None:
        """Put the cursor on the first line at or under ``path``."""
        for row, line in enumerate(self._lines):
            if line.path[: len(path)] == path and line.path:
                self.move_cursor(row=row)
                return

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row: tell the screen which line."""
        event.stop()
        line = self.line_under_cursor()
        if line is not None:
            self.post_message(self.LineChosen(line))
