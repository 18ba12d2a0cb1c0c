"""The entries filter as a modal: description text, amount range and side, typed in one place.

A modal rather than another row on browse, so an 80x24 terminal keeps its rows for entries;
what is active stays on show in the partition panel, and escape on browse clears it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ...domain.entry_filter import EntryFilter
from ...domain.errors import ValidationError
from ..widgets.ledger_input import LedgerInput

SIDES = [("debits only", "debit"), ("credits only", "credit")]


class EntryFilterDialog(ModalScreen[EntryFilter | None]):
    """Returns the new filter (an empty one clears it), or None when cancelled."""

    CSS_PATH = "entry_filter_dialog.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+l", "clear", "Clear the filter"),
    ]

    def __init__(self, current: EntryFilter) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        """Three rows of fields, an error line, the buttons."""
        current = self._current
        with Vertical(id="filter-box"):
            yield Label("Filter entries", id="filter-title")
            with Horizontal(classes="filter-row"):
                yield Label("Description has", classes="filter-label")
                yield LedgerInput(current.text, placeholder="any text", id="filter-text", compact=True)
            with Horizontal(classes="filter-row"):
                yield Label("Amount from", classes="filter-label")
                yield self._amount(current.low, "filter-low")
                yield Label(" to ", classes="filter-to")
                yield self._amount(current.high, "filter-high")
            with Horizontal(classes="filter-row"):
                yield Label("Side", classes="filter-label")
                side = current.side.value if current.side is not None else Select.NULL
                yield Select(SIDES, prompt="both sides", value=side, id="filter-side", compact=True)
            yield Static("", id="filter-error")
            yield Static(
                "Hidden entries still count in the Balance column. enter applies · ctrl+l clears · "
                "escape cancels",
                id="filter-hint",
            )
            with Horizontal(id="filter-buttons"):
                yield Button("Apply", id="filter-apply", variant="primary", compact=True)
                yield Button("Clear", id="filter-clear", compact=True)

    @staticmethod
    def _amount(value: object, id: str) -> LedgerInput:
        text = "" if value is None else str(value)
        return LedgerInput(text, placeholder="any", id=id, classes="filter-amount", compact=True)

    def on_mount(self) -> None:
        """Start in the description."""
        self.query_one("#filter-text", Input).focus()

    def _typed(self, id: str) -> str:
        return self.query_one(f"#{id}", Input).value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any field applies the filter."""
        event.stop()
        self._apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Apply or clear."""
        event.stop()
        if event.button.id == "filter-clear":
            self.action_clear()
        else:
            self._apply()

    def _apply(self) -> None:
        side = self.query_one("#filter-side", Select).value
        try:
            where = EntryFilter.parse(
                self._typed("filter-text"),
                self._typed("filter-low"),
                self._typed("filter-high"),
                side if isinstance(side, str) else "",
            )
        except ValidationError as error:
            self.query_one("#filter-error", Static).update(str(error))
            return
        self.dismiss(where)

    def action_clear(self) -> None:
        """Show every entry again."""
        self.dismiss(EntryFilter())

    def action_cancel(self) -> None:
        """Keep the filter as it was."""
        self.dismiss(None)
