"""The ledger's accounts as the console finds them: one cached index, searched in memory.

Why: the finder, the palette and type-ahead match every keystroke against a list read once
(forgotten when this console posts, a set committed elsewhere brings a new account, or ctrl+r
is pressed), so typing never queries the store, whatever the ledger's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Set
from dataclasses import dataclass

from ...domain.model import Address
from ...engine import Engine

#: Matches shown at most (the count says how many more there are).
DEFAULT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class AccountMatches:
    """The best ``addresses`` for a query, best first, and how many accounts matched in all."""

    addresses: tuple[Address, ...]
    total: int


class AccountIndex:
    """Every account of a ledger, in address order, searchable by words of its address."""

    def __init__(self, addresses: Iterable[Address]) -> None:
        self._known = frozenset(addresses)
        self._addresses = sorted(self._known)
        self._keys = [str(address).casefold() for address in self._addresses]

    def __len__(self) -> int:
        return len(self._addresses)

    @property
    def known(self) -> frozenset[Address]:
        """Every account, as a set."""
        return self._known

    @property
    def addresses(self) -> tuple[Address, ...]:
        """Every account, in address order."""
        return tuple(self._addresses)

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> AccountMatches:
        """Accounts whose ``LE/NS/NAME/CUR/ACCT`` contains every word of ``query`` (any case, any
        order), best first: the whole address, then an exact part, then a part's start, then the rest.
        """
        terms = query.casefold().split()
        if not terms:
            return AccountMatches(tuple(self._addresses[:limit]), len(self._addresses))
        ranked: list[tuple[int, int]] = []
        for position, key in enumerate(self._keys):
            if all(term in key for term in terms):
                ranked.append((_rank(key, terms), position))
        ranked.sort()
        return AccountMatches(tuple(self._addresses[p] for _, p in ranked[:limit]), len(ranked))


def _rank(key: str, terms: list[str]) -> int:
    """0: the whole address; 1: a word is a whole part; 2: a part starts with a word; 3: inside."""
    if len(terms) == 1 and key == terms[0]:
        return 0
    parts = key.split("/")
    if any(term in parts for term in terms):
        return 1
    if any(part.startswith(term) for term in terms for part in parts):
        return 2
    return 3


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

    def knows(self, addresses: Set[Address]) -> bool:
        """Whether every one of ``addresses`` is in the list read (True when none is read yet)."""
        return self._index is None or addresses <= self._index.known

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
