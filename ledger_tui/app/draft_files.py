"""F5/F6 on the compose screen: load a draft from, and save it to, the origin's JSON format.

Saved drafts go to the user's data dir unless a path says otherwise, and every notice names
the full path, so a draft is never written somewhere the operator cannot find.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

from textual.screen import Screen

from ..domain.document import loads_document, read_bounded
from ..domain.errors import LedgerError
from .draft import LegDraft, draft_from_data, draft_to_data
from .path_prompt import PathPrompt


def default_draft_dir() -> Path:
    """Where F6 saves drafts unless told otherwise (the user's data dir, never the working dir)."""
    from platformdirs import user_data_path

    return user_data_path("ledger-tui") / "drafts"


class DraftFiles(Screen[None]):
    """Load and save actions for a screen that holds a draft (mixed into the compose screen)."""

    _transaction_id: uuid.UUID
    _posting: bool
    _last_path: str | None

    def _drafts(self) -> list[LegDraft]:
        raise NotImplementedError

    async def set_draft(self, drafts: Sequence[LegDraft], transaction_id: uuid.UUID | None = None) -> None:
        """Replace the whole draft (the compose screen's)."""
        raise NotImplementedError

    # -- files -------------------------------------------------------------------------------

    def action_load_json(self) -> None:
        """Ask for a file in the origin's transaction.json format and load it as the draft."""
        default = self._last_path or str(default_draft_dir() / "draft.json")
        self.app.push_screen(PathPrompt("Load entry set from JSON file", default), self._load_from)

    async def _load_from(self, path: str | None) -> None:
        if not path:
            return
        if self._posting:  # the post in flight owns the current id; loading would replace it
            self.notify("Wait for the post to finish before loading a file.", severity="warning")
            return
        try:
            with Path(path).expanduser().resolve().open("rb") as stream:  # bounded: not /dev/zero into memory
                data = loads_document(read_bounded(stream))
            transaction_id, drafts = draft_from_data(data)
        except (OSError, ValueError, RecursionError, RuntimeError, LedgerError) as error:
            self.notify(str(error), title="Cannot load", severity="error")
            return
        if not drafts:
            self.notify("The file has no entries.", title="Cannot load", severity="error")
            return
        self._last_path = path
        await self.set_draft(drafts, transaction_id)
        self.notify(f"Loaded {len(drafts)} legs from {path}", timeout=4)

    def action_save_json(self) -> None:
        """Ask for a path and save the draft (amounts as strings, with its transaction id)."""
        default = self._last_path or str(default_draft_dir() / f"draft-{self._transaction_id}.json")
        self.app.push_screen(PathPrompt("Save draft as JSON file", default), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if not path:
            return
        text = json.dumps(draft_to_data(self._transaction_id, self._drafts()), indent=2) + "\n"
        try:
            target = Path(path).expanduser().resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        except (OSError, RuntimeError) as error:
            self.notify(str(error), title="Cannot save", severity="error")
            return
        self._last_path = str(target)
        self.notify(f"Saved the draft to {target}", timeout=6)
