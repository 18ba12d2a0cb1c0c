"""Listing a rollup whose accounts are spread over parts: the merged pages are exactly the
accounts in order, whatever the page size, and each account is read a bounded number of times."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from ..support.rollup_rows import counting_reader, list_all


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.text(min_size=1, max_size=6), max_size=120),
    st.integers(2, 9),
    st.integers(1, 40),
)
def test_pages_are_every_account_in_order(accounts: set[str], parts: int, page_size: int) -> None:
    reader, _ = counting_reader(sorted(accounts), parts)
    assert asyncio.run(list_all(reader, page_size)) == sorted(accounts)


async def test_each_account_is_read_a_bounded_number_of_times() -> None:
    accounts = [f"acc-{n:07d}" for n in range(20_000)]
    reader, read = counting_reader(accounts, 64)
    assert await list_all(reader, 1000) == accounts
    assert read[0] <= 2 * len(accounts), f"{read[0]:,} rows read to list {len(accounts):,} accounts"
