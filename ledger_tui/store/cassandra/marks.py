"""Late marks in Cassandra: one map of day -> latest late recorded time per node.

Why a map: a back-dated write marks every day it touches, so as rows the marks were a large
share of an import's rows; as a map every mark of one node and recorded time is one statement,
written ``USING TIMESTAMP`` of that time so each day keeps the latest mark. Older ledgers also
have marks as rows, read and merged per the ``late_marks`` setting (docs/cassandra-write-path.md).
"""

from __future__ import annotations

import asyncio
import struct
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ...domain.paging import Page, PageToken
from ...domain.timeutil import from_epoch_ms, to_epoch_ms
from .encode import micros

MARKS_SETTING = "late_marks"
#: Marks live only in the per-node maps (every ledger created since the maps exist).
NODE_MAPS = "node_maps"
#: The ledger has marks as rows from before the maps; reads merge both.
ROWS_AND_NODE_MAPS = "rows_and_node_maps"
_DAY = struct.Struct(">i")

Rows = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]
Settings = Callable[[], Awaitable[dict[str, str]]]


def layout_for(tables_before: set[str]) -> str:
    """The marks layout of a ledger whose keyspace held ``tables_before`` before ``schema apply``."""
    return ROWS_AND_NODE_MAPS if "late_marks" in tables_before else NODE_MAPS


def mark_updates(marks: dict[tuple[str, int], datetime]) -> list[tuple[int, dict[int, int], str]]:
    """The ``insert_marks`` rows of a materialisation's marks: one per node and recorded time
    (write timestamp in microseconds, day -> epoch ms, node)."""
    grouped: dict[tuple[str, datetime], dict[int, int]] = defaultdict(dict)
    for (node, day), recorded_at in marks.items():
        grouped[(node, recorded_at)][day] = to_epoch_ms(recorded_at)
    return [(micros(at), days, node) for (node, at), days in grouped.items()]


class MarkReader:
    """Reads a node's marks from its map (and from the old rows where the ledger has them)."""

    def __init__(self, rows: Rows, settings: Settings) -> None:
        self._rows = rows
        self._settings = settings
        self._layout: str | None = None

    async def layout(self) -> str:
        """The ledger's marks layout (no setting: both, which is exact for any ledger)."""
        if self._layout is None:
            self._layout = (await self._settings()).get(MARKS_SETTING, ROWS_AND_NODE_MAPS)
        return self._layout

    def forget_layout(self) -> None:
        """Read the layout again next time (the schema was just applied)."""
        self._layout = None

    async def read(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None
    ) -> Page[tuple[int, datetime]]:
        """One page of (day, mark) in [first_day, until_day), by day; the token holds the next day
        (each page reads the rest of the range again: a node has a few hundred marked days)."""
        page_size = max(1, page_size)
        if token is not None and isinstance(token.state, bytes):  # a token of this reader
            first_day = max(first_day, _DAY.unpack(token.state)[0])
        found: dict[int, int] = {}
        if first_day < until_day:
            reads = [self._rows("marks", (first_day, until_day - 1, node))]  # the slice is inclusive
            if await self.layout() == ROWS_AND_NODE_MAPS:  # both at once: one round trip's wait
                reads.append(self._rows("mark_rows", (node, first_day, until_day)))
            in_map, *old_rows = await asyncio.gather(*reads)
            if in_map and in_map[0][0]:
                found.update(in_map[0][0])
            for day, ms in old_rows[0] if old_rows else ():
                found[day] = max(ms, found.get(day, ms))
        days = sorted(found)
        following = PageToken(_DAY.pack(days[page_size])) if len(days) > page_size else None
        return Page([(day, from_epoch_ms(found[day])) for day in days[:page_size]], following)
