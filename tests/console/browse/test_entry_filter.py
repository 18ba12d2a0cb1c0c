"""Browse's filtered register: pages and running balances equal the slow path, and a token from another filter is refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.app.browse.entry_pager import EntryPager
from ledger_tui.domain.entry_filter import EntryFilter, MatchedEntry
from ledger_tui.domain.model import Address, Entry, Side
from ledger_tui.domain.paging import Page, PageToken
from ledger_tui.engine.register import MatchCursor

T0 = datetime(2024, 1, 1, tzinfo=UTC)


ACCOUNT = Address("le", "ns", "name", "GBP", "a")


WORDS = ["fee", "Card FEE", "salary", "deposit", ""]


def _entry(index: int, side: Side, cents: int, word: str) -> Entry:
    when = T0 + timedelta(hours=index)
    return Entry(ACCOUNT, side, Decimal(cents).scaleb(-2), word, when, uuid.UUID(int=index + 1), 0, when)


def _fetcher(entries: list[Entry]):  # type: ignore[no-untyped-def]
    """An unfiltered paged read over a list (the engine's entries, without a store)."""

    async def fetch(size: int, token: PageToken | None) -> Page[Entry]:
        offset = 0 if token is None else int(str(token.state))
        chunk = entries[offset : offset + size]
        more = offset + size < len(entries)
        return Page(chunk, PageToken(offset + size) if more else None)

    return fetch


async def _read_all(entries: list[Entry], where: EntryFilter, page_size: int) -> list[list[MatchedEntry]]:
    pages: list[list[MatchedEntry]] = []
    cursor = MatchCursor(where, "read")
    while True:
        page = await cursor.page(page_size, _fetcher(entries))
        pages.append(page.items)
        if page.next_token is None:
            return pages
        cursor = MatchCursor.from_token(page.next_token, where, "read")


moves = st.lists(
    st.tuples(st.sampled_from(list(Side)), st.integers(1, 10**7), st.sampled_from(WORDS)), max_size=60
)


filters = st.builds(
    EntryFilter,
    text=st.sampled_from(["", "fee", "SAL", "x"]),
    low=st.one_of(st.none(), st.integers(0, 10**5).map(lambda c: Decimal(c).scaleb(-2))),
    high=st.one_of(st.none(), st.just(Decimal("50000.00"))),
    side=st.one_of(st.none(), st.sampled_from(list(Side))),
).filter(lambda f: f.low is None or f.high is None or f.low <= f.high)


@settings(max_examples=150, deadline=None)
@given(moves=moves, where=filters, page_size=st.integers(1, 7), opening=st.integers(-(10**6), 10**6))
def test_filtered_pages_and_running_balance_equal_the_slow_path(
    moves: list[tuple[Side, int, str]], where: EntryFilter, page_size: int, opening: int
) -> None:
    entries = [_entry(i, side, cents, word) for i, (side, cents, word) in enumerate(moves)]
    pages = asyncio.run(_read_all(entries, where, page_size))
    matches = [m for page in pages for m in page]
    assert [m.entry for m in matches] == [e for e in entries if where(e)]
    assert all(len(page) == page_size for page in pages[:-1])  # whole pages, never an empty last one
    assert pages[-1] or len(pages) == 1

    unfiltered = EntryPager.starting_at(Decimal(opening)).page_loaded(
        [MatchedEntry(e) for e in entries], None
    )
    balance_at = {e.transaction_id: b for e, b in zip(entries, unfiltered, strict=True)}
    pager = EntryPager.starting_at(Decimal(opening))
    running: list[Decimal] = []
    for number, page in enumerate(pages):
        running += pager.page_loaded(page, object() if number + 1 < len(pages) else None)  # type: ignore[arg-type]
        pager.go_next()
    assert running == [balance_at[m.entry.transaction_id] for m in matches]
    totals = pager.seen_totals()
    assert totals.count == len(matches)
    assert totals.debits == sum((m.entry.amount for m in matches if m.entry.side is Side.DEBIT), Decimal(0))


def test_a_token_from_another_filter_is_refused() -> None:
    entries = [_entry(i, Side.CREDIT, 100, "fee") for i in range(5)]
    page = asyncio.run(MatchCursor(EntryFilter("fee"), "read").page(2, _fetcher(entries)))
    assert page.next_token is not None
    with pytest.raises(ValueError, match="another read"):
        MatchCursor.from_token(page.next_token, EntryFilter("other"), "read")
