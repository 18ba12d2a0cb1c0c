"""Listing a rollup whose accounts are spread over parts: the merged pages are exactly the
accounts in order, whatever the page size, and each account is read a bounded number of times."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.blocks import node_key
from ledger_tui.domain.paging import PageToken
from ledger_tui.store.cassandra.rollups import RollupReader, split_rows

NODE = node_key(("a", "b", "c", "GBP"))


def _reader(accounts: list[str], parts: int) -> tuple[RollupReader, list[int]]:
    """A reader over the tree rows ``split_rows`` makes, counting the rows each read returns."""
    tree, _ = split_rows({(NODE, account) for account in accounts}, set(), parts)
    by_part: dict[str, list[str]] = {}
    for parent, child in tree:
        by_part.setdefault(parent, []).append(child)
    for children in by_part.values():
        children.sort()
    read = [0]

    async def page(name: str, params: tuple[Any, ...], size: int, token: PageToken | None) -> Any:
        assert name == "children_after" and token is None
        key, after = params
        found = [child for child in by_part.get(key, []) if child > after][:size]
        read[0] += len(found)
        return [(child,) for child in found], PageToken(1) if len(found) == size else None

    async def count() -> int:
        return parts

    return RollupReader(page, None, count), read  # type: ignore[arg-type]


async def _list(reader: RollupReader, page_size: int) -> list[str]:
    listed: list[str] = []
    token = None
    while True:
        items, token = await reader.children(NODE, page_size, token)
        assert len(items) <= page_size and (items or token is None)
        if token is not None:
            assert len(items) == page_size  # only the last page is short
        listed += items
        if token is None:
            return listed


@settings(max_examples=200, deadline=None)
@given(
    st.sets(st.text(min_size=1, max_size=6), max_size=120),
    st.integers(2, 9),
    st.integers(1, 40),
)
def test_pages_are_every_account_in_order(accounts: set[str], parts: int, page_size: int) -> None:
    reader, _ = _reader(sorted(accounts), parts)
    assert asyncio.run(_list(reader, page_size)) == sorted(accounts)


async def test_each_account_is_read_a_bounded_number_of_times() -> None:
    accounts = [f"acc-{n:07d}" for n in range(20_000)]
    reader, read = _reader(accounts, 64)
    assert await _list(reader, 1000) == accounts
    assert read[0] <= 2 * len(accounts), f"{read[0]:,} rows read to list {len(accounts):,} accounts"
