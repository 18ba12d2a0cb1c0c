"""A filtered read of one account's entries: the predicate runs here, while paging.

The unfiltered pages come from the engine's ordinary entry cursor; this cursor keeps only the
entries a predicate accepts and sums what the skipped ones moved, so a face gets whole pages
of matches plus exactly what it needs to keep the account's running balance right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from ..domain.entry_filter import Hidden, MatchedEntry
from ..domain.model import Entry
from ..domain.money import ZERO
from ..domain.paging import Page, PageToken

EntryPredicate = Callable[[Entry], bool]
#: Fetches one unfiltered page of the account's entries (size, token).
EntryFetch = Callable[[int, PageToken | None], Awaitable[Page[Entry]]]
#: Unfiltered rows read at once once a filter has skipped some: fewer, larger reads.
MIN_SCAN = 500


@dataclass(frozen=True, slots=True)
class MatchCursor:
    """Where a filtered read stopped: the unfiltered token, matches read ahead, hidden totals."""

    where: EntryPredicate
    key: object  # the read this cursor belongs to (account, range, as-of)
    inner: PageToken | None = None
    carried: tuple[MatchedEntry, ...] = ()
    hidden_debits: Decimal = ZERO
    hidden_credits: Decimal = ZERO
    exhausted: bool = False

    @staticmethod
    def from_token(token: PageToken, where: EntryPredicate, key: object) -> MatchCursor:
        """The cursor a token carries; refuses a token from another read or another filter."""
        cursor = token.state
        if not isinstance(cursor, MatchCursor) or (cursor.where, cursor.key) != (where, key):
            raise ValueError("this page token belongs to another read")
        return cursor

    async def page(self, page_size: int, fetch: EntryFetch) -> Page[MatchedEntry]:
        """The next ``page_size`` matches in ledger order; a token only if another match exists."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        items = list(self.carried)
        hidden = Hidden(self.hidden_debits, self.hidden_credits)
        inner, exhausted = self.inner, self.exhausted
        scan = page_size + 1 - len(items)  # enough if everything matches (no filter: one read)
        while len(items) <= page_size and not exhausted:
            page = await fetch(max(scan, 1), inner)
            for entry in page.items:
                if self.where(entry):
                    items.append(hidden.attach(entry))
                else:
                    hidden.skip(entry)
            inner, exhausted = page.next_token, page.next_token is None
            scan = max(page_size + 1 - len(items), MIN_SCAN)  # the filter skips: read further ahead
        if len(items) <= page_size:
            return Page(items)
        following = MatchCursor(
            self.where, self.key, inner, tuple(items[page_size:]), hidden.debits, hidden.credits, exhausted
        )
        return Page(items[:page_size], PageToken(following))
