"""Open holds as a table: oldest first, what each holds where, and the time left to its expiry.

Why the time left is drawn from the figures kept, not read again: it changes every second, and a
hold past its expiry drops out at once although nobody has swept it (expiry is exact at read time).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable

from ...domain.holds import Hold, time_left
from ...domain.model import Side

COLUMNS = ("Placed", "Expires in", "Held from", "Held for", "Transaction")


def _side(hold: Hold, side: Side) -> str:
    return ", ".join(
        f"{leg.address.account_id} {leg.amount} {leg.address.currency}"
        for leg in hold.transaction.legs
        if leg.side is side
    )


class HoldsTable(DataTable[Text]):
    """One row per hold pending at the time given; the cursor's row is the chosen hold."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._holds: list[Hold] = []

    def on_mount(self) -> None:
        """The columns, once."""
        for name in COLUMNS:
            self.add_column(name, key=name.lower())

    @property
    def holds(self) -> list[Hold]:
        """The holds shown, in row order."""
        return list(self._holds)

    @property
    def chosen(self) -> Hold | None:
        """The hold under the cursor, if any."""
        if not self._holds or not 0 <= self.cursor_row < len(self._holds):
            return None
        return self._holds[self.cursor_row]

    def show(self, holds: list[Hold], now: datetime) -> None:
        """Replace the rows with the holds pending at ``now``, keeping the cursor's place."""
        row = self.cursor_row
        self.clear()
        self._holds = [hold for hold in holds if hold.pending_at(now)]
        for hold in self._holds:
            self.add_row(
                Text(hold.transaction.recorded_at.strftime("%Y-%m-%d %H:%M:%S")),
                Text(time_left(hold, now), justify="right"),
                Text(_side(hold, Side.DEBIT)),
                Text(_side(hold, Side.CREDIT)),
                Text(str(hold.hold_id)),
            )
        if self._holds:
            self.move_cursor(row=min(row, len(self._holds) - 1))
