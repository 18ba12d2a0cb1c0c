"""The console's small modals: a yes/no question, a file path, a cluster login.

Anything the console cannot undo (dropping a typed draft, posting to accounts that do not
exist yet, reversing a transaction) asks a yes/no question first, with the facts the operator needs.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from .ledger_input import LedgerInput


class ConfirmDialog(ModalScreen[bool]):
    """Returns True when the operator confirms, False otherwise."""

    CSS_PATH = "dialogs.tcss"
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


class PathPrompt(ModalScreen[str | None]):
    """Returns the typed path on enter, or None on escape."""

    CSS_PATH = "dialogs.tcss"
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


class LoginPrompt(ModalScreen[tuple[str, str] | None]):
    """Returns (username, password) on enter in the password field, or None on escape.

    The password is masked and leaves this screen only as the returned value (never logged)."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self._reason = reason

    def compose(self) -> ComposeResult:
        """The refusal, a username and a masked password."""
        with Vertical(id="login-box"):
            yield Label("Log in to the cluster", id="login-title")
            yield Label(self._reason, id="login-reason")
            yield LedgerInput(placeholder="username", id="login-username")
            yield Input(placeholder="password", password=True, id="login-password")
            yield Label("enter to log in · escape to cancel (ctrl+r asks again)", id="login-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the username moves on; enter in the password logs in."""
        event.stop()
        username = self.query_one("#login-username", Input).value.strip()
        if event.input.id == "login-username" or not username:
            self.query_one("#login-password" if username else "#login-username", Input).focus()
            return
        self.dismiss((username, self.query_one("#login-password", Input).value))

    def action_cancel(self) -> None:
        """Close without logging in."""
        self.dismiss(None)
