"""The console's one copy of the ledger's account list, for search, type-ahead and the palette.

Loaded once through the engine (level by level, bounded) and kept until the ledger changes
(a post from this console, ctrl+r), so no keystroke ever re-reads the accounts.
"""

from __future__ import annotations

import asyncio

from ..domain.account_search import AccountIndex
from ..engine import Engine


class AccountsCache:
    """Every account of the ledger, read on first use and forgotten on ``invalidate``."""

    def __init__(self) -> None:
        self._index: AccountIndex | None = None
        self._generation = 0
        self._lock = asyncio.Lock()

    @property
    def cached(self) -> AccountIndex | None:
        """The index if it is loaded (no I/O)."""
        return self._index

    def invalidate(self) -> None:
        """Forget the list (accounts were added); a load in flight is not kept either."""
        self._index = None
        self._generation += 1

    async def index(self, engine: Engine) -> AccountIndex:
        """The index, loading it once however many callers ask at the same time."""
        async with self._lock:
            if self._index is not None:
                return self._index
            generation = self._generation
            index = AccountIndex(await engine.accounts())
            if generation == self._generation:
                self._index = index
            return index
