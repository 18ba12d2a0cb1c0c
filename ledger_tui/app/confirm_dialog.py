"""A yes/no question in a modal: y or enter confirms, n or escape declines.

Anything the console cannot undo (dropping a typed draft, posting to accounts that do not
exist yet, reversing a transaction) asks here first, with the facts the operator needs.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    """Returns True when the operator confirms, False otherwise."""

    CSS_PATH = "confirm_dialog.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, body: str, confirm: str = "Yes", decline: str = "No") -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm = confirm
        self._decline = decline

    def compose(self) -> ComposeResult:
        """Title, the facts, two buttons."""
        with Vertical(id="confirm-box"):
            yield Label(self._title, id="confirm-title")
            yield Static(self._body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self._confirm} (y)", id="confirm-yes", variant="warning", compact=True)
                yield Button(f"{self._decline} (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        """The safe answer has the focus, so a stray enter declines."""
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers."""
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        """A key answers."""
        self.dismiss(answer)
