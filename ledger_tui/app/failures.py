"""How store and ledger failures read to an operator, and the time limit on every engine call.

Why one place: every screen words failures the same way, and a hung store never hangs the console.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

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
