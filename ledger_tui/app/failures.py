"""How store and ledger failures become operator-facing text, and the time limit on every call.

Every screen reports failures the same way, so a dead store never crashes the console; a
widget's failed worker reaches its screen as a ``CallFailed`` message, because Textual
tells only the node that started a worker about its state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from textual.message import Message

from ..domain.errors import AccessDenied, LedgerError, StoreBusy, StoreUnavailable, ValidationError

T = TypeVar("T")

#: Longest a single engine call may take before the console gives up and reports a timeout.
CALL_TIMEOUT_SECONDS = 30.0


async def with_timeout(call: Awaitable[T], seconds: float = CALL_TIMEOUT_SECONDS) -> T:
    """Await ``call`` but raise TimeoutError after ``seconds`` (a hung store must not hang the UI)."""
    async with asyncio.timeout(seconds):
        return await call


def describe_failure(error: BaseException) -> tuple[str, str]:
    """A short title and a message for ``error``, safe to show (ledger errors are user-facing)."""
    if isinstance(error, StoreBusy):
        return "Store busy", f"{error} — press ctrl+r to retry"
    if isinstance(error, StoreUnavailable):
        return "Store unavailable", f"{error} — press ctrl+r to retry"
    if isinstance(error, AccessDenied):
        return "Access denied", f"{error} — press ctrl+r to log in again"
    if isinstance(error, TimeoutError):
        return "Timed out", "the store did not answer in time — press ctrl+r to retry"
    if isinstance(error, ValidationError):
        return "Rejected", str(error)
    if isinstance(error, LedgerError):
        return "Ledger error", str(error)
    return "Unexpected error", f"{type(error).__name__}: {error}"


class CallFailed(Message):
    """A widget's worker of ``group`` failed with ``error``; bubbles up to the screen that reports it."""

    def __init__(self, group: str, error: BaseException) -> None:
        super().__init__()
        self.group = group
        self.error = error
