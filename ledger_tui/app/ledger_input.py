"""An Input that follows the app's cursor-blink setting, so snapshots never catch a half blink."""

from __future__ import annotations

from textual.widgets import Input


class LedgerInput(Input):
    """Input whose cursor blinks only when the app allows it (tests switch blinking off)."""

    def on_mount(self) -> None:
        """Copy the app-wide blink preference once the app is reachable."""
        self.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
