"""Completions for an address part, scoped by the parts typed before it.

A namespace suggestion only comes from accounts under the typed legal entity, a name only
from that legal entity and namespace, and so on, so a completion is always an existing path.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from textual.suggester import Suggester

from ...domain.model import ADDRESS_FIELDS, Address


class KnownAccounts:
    """The ledger's accounts as sorted tuples, for scoped prefix look-ups."""

    def __init__(self, accounts: Sequence[Address] = ()) -> None:
        self._paths = sorted(account.as_tuple() for account in accounts)
        self._set = set(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, address: object) -> bool:
        return isinstance(address, Address) and address.as_tuple() in self._set

    def candidates(self, field: str, before: Sequence[str]) -> list[str]:
        """Sorted values of ``field`` among accounts whose earlier parts equal ``before`` (blank: any)."""
        index = ADDRESS_FIELDS.index(field)
        scope = list(before[:index])
        while scope and not scope[-1]:
            scope.pop()  # trailing blanks do not narrow anything
        if all(scope):
            start = bisect.bisect_left(self._paths, tuple(scope))
            found: set[str] = set()
            for path in self._paths[start:]:
                if path[: len(scope)] != tuple(scope):
                    break
                found.add(path[index])
            return sorted(found)
        return sorted({p[index] for p in self._paths if all(not s or p[i] == s for i, s in enumerate(scope))})

    def complete(self, field: str, before: Sequence[str], typed: str) -> str | None:
        """The first candidate that extends ``typed`` (None when nothing does)."""
        if not typed:
            return None
        values = self.candidates(field, before)
        at = bisect.bisect_left(values, typed)
        if at < len(values) and values[at].startswith(typed):
            return values[at]
        return None


class ScopedSuggester(Suggester):
    """Suggests an address part from the accounts matching the parts typed before it."""

    def __init__(self, field: str, accounts: Callable[[], KnownAccounts], before: Callable[[], list[str]]):
        super().__init__(use_cache=False, case_sensitive=True)
        self._field = field
        self._accounts = accounts
        self._before = before

    def complete_now(self, value: str) -> str | None:
        """The first known value of the field that extends ``value`` (what the suggestion shows)."""
        return self._accounts().complete(self._field, self._before(), value)

    async def get_suggestion(self, value: str) -> str | None:
        """The suggestion the input shows after the cursor."""
        return self.complete_now(value)
