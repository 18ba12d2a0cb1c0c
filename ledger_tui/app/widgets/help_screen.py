"""The ``?``/F1 help: every key of the app and of each screen, in one place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?", "slash": "/"}


def _keys_text(keys: str) -> str:
    return " / ".join(KEY_NAMES.get(key, key) for key in keys.split(","))


def _key_rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for item in bindings:
        if isinstance(item, Binding):
            keys, description = item.key, item.description
        else:
            keys, description = item[0], item[2] if len(item) > 2 else item[1]
        if description:
            rows.append((_keys_text(keys), description))
    return rows


class HelpScreen(ModalScreen[None]):
    """A modal listing keys per section; escape, q or F1 closes it."""

    CSS_PATH = "help_screen.tcss"
    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close help"),
    ]

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        """One titled block per section."""
        with VerticalScroll(id="help-body"):
            yield Static("[b]ledger-tui keys[/b]  (escape closes)", id="help-title")
            for title, bindings in self._sections:
                rows = _key_rows(bindings)
                if not rows:
                    continue
                # Styled text, not markup: keys such as "[" must print as themselves.
                text = Text()
                text.append(title, style="underline")
                for keys, description in rows:
                    text.append("\n  ")
                    text.append(f"{keys:<22}", style="bold")
                    text.append(f" {description}")
                yield Static(text, classes="help-section")

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(result)
