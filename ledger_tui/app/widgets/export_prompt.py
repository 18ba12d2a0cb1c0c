"""Export what a screen shows to a CSV or JSON file the operator names (default: the data dir).

Every screen exports through this one helper, so the prompt, the default location, the
format-by-extension rule and the notice naming the full path are the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.screen import Screen

from ...domain.errors import LedgerError
from ...domain.export import ExportTable, format_of, render
from .dialogs import PathPrompt


def default_export_dir() -> Path:
    """Where exports go unless a path says otherwise (the user's data dir, never the working dir)."""
    from platformdirs import user_data_path

    return user_data_path("ledger-tui") / "exports"


def export_table(screen: Screen[Any], kind: str, table: ExportTable) -> None:
    """Ask for a path (.csv or .json) and write the table there, with a notice naming the file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    default = str(default_export_dir() / f"{kind}-{stamp}.csv")

    def write(path: str | None) -> None:
        if not path:
            return
        try:
            text = render(table, format_of(path))
            target = Path(path).expanduser().resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except (OSError, RuntimeError, LedgerError) as error:
            screen.notify(str(error), title="Cannot export", severity="error")
            return
        screen.notify(f"Exported {len(table.rows)} rows to {target}", timeout=6)

    screen.app.push_screen(
        PathPrompt(f"Export {kind} ({len(table.rows)} rows) as .csv or .json", default), write
    )
