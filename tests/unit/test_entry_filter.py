"""The entries filter, the filtered register read and the month steps of browse.

The filtered read is proven against the obvious slow path: filter a fully read list, and take
the running balance of the unfiltered register at each match.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.app.browse.entry_pager import EntryPager
from ledger_tui.app.browse.month_steps import span_of, step_month
from ledger_tui.app.widgets.formatting import grouped, money_text, short_id
from ledger_tui.domain.entry_filter import EntryFilter, MatchedEntry
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.model import Address, Entry, Side
from ledger_tui.domain.money import DEFAULT_CURRENCIES
from ledger_tui.domain.paging import Page, PageToken
from ledger_tui.domain.timeutil import TimeRange
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


def test_the_filter_matches_text_amount_and_side() -> None:
    fee = _entry(0, Side.DEBIT, 1250, "Card FEE")
    where = EntryFilter.parse(" fee ", "10", "1,000.00", "debit")
    assert where(fee) and where.is_active
    assert not where(_entry(0, Side.CREDIT, 1250, "Card fee"))
    assert not where(_entry(0, Side.DEBIT, 999, "fee"))
    assert not where(_entry(0, Side.DEBIT, 100001, "fee"))
    assert where.describe() == "description has 'fee' · 10 ≤ amount ≤ 1000.00 · debits only"
    assert not EntryFilter().is_active and EntryFilter()(fee)


@pytest.mark.parametrize(
    ("low", "high", "side", "field"),
    [
        ("ten", "", "", "minimum"),
        ("", "-5", "", "maximum"),
        ("9", "5", "", "amount"),
        ("", "", "both", "side"),
    ],
)
def test_a_bad_filter_names_the_field(low: str, high: str, side: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        EntryFilter.parse("", low, high, side)
    assert raised.value.problems[0].field == field


def test_month_steps_skip_months_without_entries() -> None:
    months = ["2024-01", "2024-04", "2024-09"]
    assert step_month(months, "2024-04", 1, on_month=True) == "2024-09"
    assert step_month(months, "2024-04", -1, on_month=True) == "2024-01"
    assert step_month(months, "2024-06", -1, on_month=True) == "2024-04"
    assert step_month(months, "2024-04", 1, on_month=False) == "2024-04"
    assert step_month(months, "2024-09", 1, on_month=True) is None
    assert step_month(months, "2024-01", -1, on_month=True) is None
    assert step_month([], "2024-01", 1, on_month=False) is None
    assert span_of(months) == TimeRange(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC))
    assert span_of([]) == TimeRange()


def test_amounts_are_grouped_at_display_only_and_never_rounded() -> None:
    assert money_text(Decimal("-1234567.5"), "GBP", DEFAULT_CURRENCIES) == "-1,234,567.50"
    assert money_text(Decimal("1000"), "JPY", DEFAULT_CURRENCIES) == "1,000"
    assert money_text(Decimal("0.001"), "GBP", DEFAULT_CURRENCIES) == "0.001"  # odd digits: shown, not cut
    assert grouped(Decimal("123456789012345678901234.125")) == "123,456,789,012,345,678,901,234.125"
    assert short_id(uuid.UUID("5a1b2df7-f2f4-47a9-8c3e-0c2f6d7b9e10")) == "5a1b2df7…9e10"
