"""Rollup parts: a rollup's accounts spread over P partitions of the account tree and day activity.

Why: one rollup (every account of a product) can hold millions of accounts, which were one
partition each in the tree and in a day's activity; future-dated entries are listed by day only,
their accounts coming from day activity. Ledgers from before keep P = 1 (docs/scale.md).
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...domain.paging import PageToken

ROLLUP_PARTS_SETTING = "rollup_parts"
MAX_ROLLUP_PARTS = 4096
#: Path length of a rollup node (legal entity, namespace, name, currency).
_ROLLUP_DEPTH = 4
#: Children read from each part a round when listing a rollup: twice its share of the page, at
#: least this many.
_MERGE_CHUNK = 8

PageCall = Callable[
    [str, tuple[Any, ...], int, PageToken | None], Awaitable[tuple[list[Any], PageToken | None]]
]
AllRows = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]


@functools.lru_cache(maxsize=65_536)
def is_rollup(node: str) -> bool:
    """Whether a node key (a JSON list) names a rollup, whose children are accounts."""
    return len(json.loads(node)) == _ROLLUP_DEPTH


def part_of(account_id: str, parts: int) -> int:
    """The part of a rollup an account's rows live in."""
    return zlib.crc32(account_id.encode()) % parts


def part_key(node: str, part: int) -> str:
    """The partition key of one part of a rollup node."""
    return f"{node}#{part}"


def split_rows(
    tree: set[tuple[str, str]], activity: set[tuple[str, int, str]], parts: int
) -> tuple[list[tuple[str, str]], list[tuple[str, int, str]]]:
    """Tree and day-activity rows keyed by part (unchanged when the ledger has one part)."""
    if parts == 1:
        return list(tree), list(activity)
    return (
        [(part_key(p, part_of(c, parts)) if is_rollup(p) else p, c) for p, c in tree],
        [(part_key(node, part_of(a, parts)), day, a) for node, day, a in activity],
    )


@dataclass(frozen=True, slots=True)
class _PartToken:
    part: int
    driver: PageToken | None


class RollupReader:
    """Children and day activity of nodes whose rows may be spread over parts."""

    def __init__(self, page: PageCall, all_rows: AllRows, parts: Callable[[], Awaitable[int]]) -> None:
        self._page = page
        self._all_rows = all_rows
        self._parts = parts

    async def children(
        self, parent: str, page_size: int, token: PageToken | None
    ) -> tuple[list[str], PageToken | None]:
        """A node's children in order; a rollup's parts are merged after one cursor, a few rows
        of each a round: rows are kept up to the first part that gave all it was asked for."""
        parts = await self._parts()
        if parts == 1 or not is_rollup(parent):
            rows, next_token = await self._page("children", (parent,), page_size, token)
            return [row[0] for row in rows], next_token
        after = "" if token is None else str(token.state)
        chunk = max(_MERGE_CHUNK, -(-2 * page_size // parts))
        page: list[str] = []
        while True:
            found = await asyncio.gather(
                *(
                    self._page("children_after", (part_key(parent, p), after), chunk, None)
                    for p in range(parts)
                )
            )
            full = [rows[-1][0] for rows, _ in found if len(rows) >= chunk]
            bound = min(full) if full else None
            ready = sorted(row[0] for rows, _ in found for row in rows if bound is None or row[0] <= bound)
            wanted = page_size - len(page)
            page += ready[:wanted]
            if len(ready) > wanted or (bound is not None and len(page) == page_size):
                return page, PageToken(page[-1])
            if bound is None:  # every part read to its end
                return page, None
            after = bound

    async def day_activity(
        self, node: str, day: int, page_size: int, token: PageToken | None
    ) -> tuple[list[str], PageToken | None]:
        """Accounts of a rollup with entries on ``day``, part after part."""
        parts = await self._parts()
        if parts == 1:
            rows, next_token = await self._page("day_activity", (node, day), page_size, token)
            return [row[0] for row in rows], next_token
        state = _PartToken(0, None) if token is None else token.state
        if not isinstance(state, _PartToken):
            raise TypeError("a page token of another read")
        rows, driver = await self._page(
            "day_activity", (part_key(node, state.part), day), page_size, state.driver
        )
        if driver is not None:
            return [row[0] for row in rows], PageToken(_PartToken(state.part, driver))
        if state.part + 1 < parts:
            return [row[0] for row in rows], PageToken(_PartToken(state.part + 1, None))
        return [row[0] for row in rows], None

    async def future_activity(self, node: str, first_day: int, until_day: int) -> list[tuple[int, str]]:
        """(day, account) of future-dated entries: the days listed for the rollup, each day's
        accounts from its activity, and what ledgers from before listed in ``future_activity``."""
        legacy, days = await asyncio.gather(
            self._all_rows("future_activity", (node, first_day, until_day)),
            self._all_rows("future_days", (node, first_day, until_day)),
        )
        found = {(day, account) for day, account in legacy}
        for (day,) in days:
            token: PageToken | None = None
            while True:
                accounts, token = await self.day_activity(node, day, 5000, token)
                found.update((day, account) for account in accounts)
                if token is None:
                    break
        return sorted(found)
