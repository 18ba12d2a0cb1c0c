"""A small modal that asks for a file path (load / save a draft as JSON)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from .ledger_input import LedgerInput


class PathPrompt(ModalScreen[str | None]):
    """Returns the typed path on enter, or None on escape."""

    CSS_PATH = "path_prompt.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: str = "") -> None:
        super().__init__()
        self._title = title
        self._default = default

    def compose(self) -> ComposeResult:
        """A title and one input."""
        with Vertical(id="prompt-box"):
            yield Label(self._title, id="prompt-title")
            yield LedgerInput(value=self._default, placeholder="path/to/file.json", id="prompt-path")
            yield Label("enter to confirm · escape to cancel", id="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Confirm the path (empty means cancel)."""
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without a path."""
        self.dismiss(None)
