"""A modal that asks for the cluster's username and password when the store refused to log in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from .ledger_input import LedgerInput


class LoginPrompt(ModalScreen[tuple[str, str] | None]):
    """Returns (username, password) on enter in the password field, or None on escape.

    The password is masked and leaves this screen only as the returned value (never logged)."""

    CSS_PATH = "login_prompt.tcss"
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
