"""Drafts as files in the origin's JSON format: where F6 saves them, and reading and writing one.

Why the user's data dir by default: a draft is never written somewhere the operator cannot
find, and every notice names the full path. Reads are bounded, so pointing the console at
/dev/zero or a huge file is a notice, not a hang.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

from ...domain.document import loads_document, read_bounded
from ...domain.errors import LedgerError
from .draft import LegDraft, draft_from_data, draft_to_data


class DraftFileError(Exception):
    """A draft file could not be read or written; the message says why."""


def default_draft_dir() -> Path:
    """Where F6 saves drafts unless told otherwise (the user's data dir, never the working dir)."""
    from platformdirs import user_data_path

    return user_data_path("ledger-tui") / "drafts"


def read_draft(path: str) -> tuple[uuid.UUID | None, list[LegDraft]]:
    """The transaction id (if the file has one) and the legs of the draft in ``path``."""
    try:
        with Path(path).expanduser().resolve().open("rb") as stream:
            data = loads_document(read_bounded(stream))
        transaction_id, drafts = draft_from_data(data)
    except (OSError, ValueError, RecursionError, RuntimeError, LedgerError) as error:
        raise DraftFileError(str(error)) from None
    if not drafts:
        raise DraftFileError("The file has no entries.")
    return transaction_id, drafts


def write_draft(path: str, transaction_id: uuid.UUID, drafts: Sequence[LegDraft]) -> Path:
    """Save the draft (amounts as strings, with its transaction id) to ``path``; the full path."""
    text = json.dumps(draft_to_data(transaction_id, drafts), indent=2) + "\n"
    try:
        target = Path(path).expanduser().resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except (OSError, RuntimeError) as error:
        raise DraftFileError(str(error)) from None
    return target
