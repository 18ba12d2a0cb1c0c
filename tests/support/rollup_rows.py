"""An in-memory rollup reader over the tree rows ``split_rows`` makes, counting the rows each read
returns: how listing a rollup spread over parts is proven (tests) and measured (bench)."""

from __future__ import annotations

from typing import Any

from ledger_tui.domain.blocks import node_key
from ledger_tui.domain.paging import PageToken
from ledger_tui.store.cassandra.rollups import RollupReader, split_rows

NODE = node_key(("a", "b", "c", "GBP"))


def counting_reader(accounts: list[str], parts: int) -> tuple[RollupReader, list[int]]:
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


async def list_all(reader: RollupReader, page_size: int) -> list[str]:
    """Every account of the rollup, page by page (each page checked for its size)."""
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
