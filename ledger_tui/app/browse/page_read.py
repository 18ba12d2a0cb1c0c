"""One read of the entries panel: a page of an account's entries and, for a first page, the
account's months (the range reset to them when asked) and the opening balance before the range;
or a walk from the first page to a later one, for page starts that hold entries committed since.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from ...domain.entry_filter import EntryFilter, MatchedEntry
from ...domain.model import Address
from ...domain.paging import Page, PageToken
from ...domain.timeutil import TimeRange
from ...engine import Engine
from ..failures import with_timeout
from .entry_pager import EntryPager
from .month_steps import span_of


@dataclass(frozen=True, slots=True)
class PageAsk:
    """A read the panel asked for; ``number`` tells the latest apart (only its answer is drawn).
    ``quiet``: a re-read for sets committed elsewhere (no spinner, the cursor row stays);
    ``walk_to``: read from the first page on to this page (0: just the page asked for)."""

    number: int
    address: Address
    time_range: TimeRange
    token: PageToken | None
    first: bool
    reset_range: bool
    as_of: datetime | None
    where: EntryFilter
    quiet: bool = False
    walk_to: int = 0


@dataclass(frozen=True, slots=True)
class PageRead:
    """The answer: the range read (reset when asked), the page, and for a first page the opening
    balance and the account's months with entries; after a walk, the pager standing at the page."""

    time_range: TimeRange
    page: Page[MatchedEntry]
    opening: Decimal | None
    months: list[str] | None
    pager: EntryPager | None = None


async def read_page(engine: Engine, ask: PageAsk, size: int) -> PageRead:
    """One page of entries; a first page also reads the account's months and the opening balance
    before the range, from balance blocks."""
    if ask.walk_to:
        return await _walk(engine, ask, size)
    address, time_range, as_of = ask.address, ask.time_range, ask.as_of
    opening: Decimal | None = None
    months: list[str] | None = None
    if ask.first:
        months = await with_timeout(engine.buckets(address))
        if ask.reset_range:
            time_range = span_of(months)
        opening = Decimal(0)
        if time_range.start is not None:
            before = TimeRange(None, time_range.start)
            for row in await with_timeout(engine.balance(address, before, as_of)):
                if row.currency == address.currency:
                    opening = row.closing
    page = await with_timeout(engine.matching_entries(address, ask.where, time_range, size, ask.token, as_of))
    return PageRead(time_range, page, opening, months)


async def _walk(engine: Engine, ask: PageAsk, size: int) -> PageRead:
    """Pages from the first to ``ask.walk_to`` (or the last, if fewer), read afresh."""
    first = await read_page(engine, replace(ask, walk_to=0, first=True, token=None), size)
    pager = EntryPager.starting_at(first.opening or Decimal(0))
    read = first
    while pager.index < ask.walk_to:
        pager.page_loaded(read.page.items, read.page.next_token)
        start = pager.go_next()
        if start is None:
            break
        read = await read_page(engine, replace(ask, walk_to=0, first=False, token=start.token), size)
    return PageRead(first.time_range, read.page, None, first.months, pager)
