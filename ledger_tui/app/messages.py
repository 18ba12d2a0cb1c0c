"""What screens, widgets and dialogs tell the app, as messages named for what happened.

Why: nothing below the app imports it or calls into it. A message bubbles up the DOM to the
app, which reacts with ``@on`` (notices, the connection state, which screen shows what).
"""

from __future__ import annotations

from textual.message import Message

from ..domain.model import Address
from ..domain.timeutil import TimeRange


class CallFailed(Message):
    """A worker of ``group`` failed with ``error``: its screen clears what was loading, the app
    shows the notice (and marks the store unavailable when that is the reason)."""

    def __init__(self, group: str, error: BaseException) -> None:
        super().__init__()
        self.group = group
        self.error = error


class LedgerChanged(Message):
    """This console wrote to the ledger (a post or a reversal): what screens show may be stale."""


class AccountPicked(Message):
    """An account was picked (finder, palette, trial balance) to be shown in browse, over
    ``time_range`` (None: all dates)."""

    def __init__(self, address: Address, time_range: TimeRange | None = None) -> None:
        super().__init__()
        self.address = address
        self.time_range = time_range
