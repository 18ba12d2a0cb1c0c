"""Reading across pages and partitions: the one ``drain`` loop and the cursor over buckets.

Stores hand out one page of one partition at a time; everything that spans pages or
partitions is written here once, so no caller writes its own "read every page" loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..domain.model import Address, Entry
from ..domain.paging import Page, PageToken
from ..domain.timeutil import TimeRange

T = TypeVar("T")
PageFetch = Callable[[PageToken | None], Awaitable[Page[T]]]
BucketFetch = Callable[[str, int, PageToken | None], Awaitable[Page[Entry]]]


async def drain(fetch: PageFetch[T]) -> AsyncIterator[list[T]]:
    """Every page ``fetch`` returns, following tokens until the last page."""
    token: PageToken | None = None
    while True:
        page = await fetch(token)
        yield page.items
        if page.next_token is None:
            return
        token = page.next_token


async def collect(fetch: PageFetch[T]) -> list[T]:
    """Every item of every page (for reads known to be small, such as one tree level)."""
    items: list[T] = []
    async for chunk in drain(fetch):
        items.extend(chunk)
    return items


@dataclass(frozen=True, slots=True)
class EntryCursor:
    """Where a read of one account across its buckets stopped, with one row of look-ahead."""

    address: Address
    time_range: TimeRange
    buckets: tuple[str, ...]
    bucket_index: int = 0
    resume: PageToken | None = None
    carried: tuple[Entry, ...] = ()
    as_of: datetime | None = None

    @staticmethod
    def from_token(
        token: PageToken, address: Address, time_range: TimeRange, as_of: datetime | None = None
    ) -> EntryCursor:
        """The cursor a token carries; refuses a token from another read."""
        cursor = token.state
        if not isinstance(cursor, EntryCursor) or (cursor.address, cursor.time_range, cursor.as_of) != (
            address,
            time_range,
            as_of,
        ):
            raise ValueError("this page token belongs to another read")
        return cursor

    async def page(self, page_size: int, fetch: BucketFetch) -> Page[Entry]:
        """The next ``page_size`` entries in ledger order, and a token only if more exist.

        Reads one row past the page; that row travels in the token, so no partition is read
        twice and there is never an empty last page.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        items = list(self.carried)
        index, resume = self.bucket_index, self.resume
        while len(items) <= page_size and index < len(self.buckets):
            page = await fetch(self.buckets[index], page_size + 1 - len(items), resume)
            as_of = self.as_of
            items.extend(page.items if as_of is None else [e for e in page.items if e.recorded_at <= as_of])
            resume = page.next_token
            if resume is None:
                index += 1
        if len(items) <= page_size:
            return Page(items)
        following = EntryCursor(
            self.address, self.time_range, self.buckets, index, resume, tuple(items[page_size:]), self.as_of
        )
        return Page(items[:page_size], PageToken(following))
