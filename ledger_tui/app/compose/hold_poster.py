"""Placing the composed set as a hold: the engine call in a worker, and what it answers.

Why a widget of its own: like the post's receipt, the call's state lives on a node of the screen
(so leaving the screen never cancels a write half-way) and the screen hears only its outcome.
"""

from __future__ import annotations

from datetime import timedelta

from textual import work
from textual.message import Message
from textual.widgets import Static

from ...domain.model import EntrySet
from ...engine import Engine
from ...engine.holds import HoldReceipt
from ..failures import with_timeout


class HoldPoster(Static):
    """Invisible; places a hold when asked and reports it placed."""

    DEFAULT_CSS = "HoldPoster { display: none; }"

    class HoldPlaced(Message):
        """The set is held (or was already: ``receipt.repeated``)."""

        def __init__(self, receipt: HoldReceipt) -> None:
            super().__init__()
            self.receipt = receipt

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._engine = engine

    @work(exclusive=True, group="hold", exit_on_error=False)
    async def place(self, entry_set: EntrySet, lasting: timedelta) -> None:
        """Hold ``entry_set`` for ``lasting``."""
        receipt = await with_timeout(self._engine.holds().place(entry_set, expires_in=lasting))
        self.post_message(self.HoldPlaced(receipt))
