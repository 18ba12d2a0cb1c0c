"""What screens, widgets and dialogs tell the app, as messages named for what happened.

Why: nothing below the app imports it or calls into it. A message bubbles up the DOM to the
app, which reacts with ``@on`` (notices, the connection state, which screen shows what).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from textual.message import Message

from ..domain.changes import Change
from ..domain.model import Address
from ..domain.timeutil import TimeRange
from ..engine.changes import PublisherLag


class CallFailed(Message):
    """A worker of ``group`` failed with ``error``: its screen clears what was loading, the app
    shows the notice (and marks the store unavailable when that is the reason)."""

    def __init__(self, group: str, error: BaseException) -> None:
        super().__init__()
        self.group = group
        self.error = error


class LedgerChanged(Message):
    """This console wrote to the ledger (a post or a reversal): what screens show may be stale.
    ``transaction_id`` names the set written, so the change feed need not report it again."""

    def __init__(self, transaction_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.transaction_id = transaction_id


class SetsCommitted(Message):
    """The change feed brought sets committed by another process (the HTTP server, an ingester,
    another console), in commit order: screens show what they touch."""

    def __init__(self, changes: Sequence[Change]) -> None:
        super().__init__()
        self.changes = changes


class PublishersChecked(Message):
    """How far behind each publisher's saved cursor is, by publisher name."""

    def __init__(self, lags: Mapping[str, PublisherLag]) -> None:
        super().__init__()
        self.lags = lags


class AccountPicked(Message):
    """An account was picked (finder, palette, trial balance) to be shown in browse, over
    ``time_range`` (None: all dates)."""

    def __init__(self, address: Address, time_range: TimeRange | None = None) -> None:
        super().__init__()
        self.address = address
        self.time_range = time_range
