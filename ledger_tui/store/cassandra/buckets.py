"""Reading an account's month buckets when a month may be stored as many partitions.

Why: the engine and every face think in months; the bucket index lists the partitions an account
really has, so a plain month is read as before and a split month is merged in ledger order by the
node, one request a round, with no layout needed to read (docs/scale.md).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...domain.layout import AFTER_SUBS, month_of, period_of, period_span_ms
from ...domain.model import Address
from ...domain.paging import PageToken
from ...domain.timeutil import MAX_EPOCH_MS, TimeRange, to_epoch_ms

Unpaged = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]
PageCall = Callable[
    [str, tuple[Any, ...], int, PageToken | None], Awaitable[tuple[list[Any], PageToken | None]]
]
#: How long partitions listed by ``list_buckets`` are trusted by the reads that follow it.
_LISTED_FOR_S = 10.0
_LISTED_LIMIT = 50_000
#: Rows read per partition and round of a merge: twice its share of the page, at least this.
_MERGE_CHUNK = 8


@dataclass(frozen=True, slots=True)
class _Token:
    """A read's resume point: the month's partitions (fixed at its first page), the span being
    read and, within it, the driver's paging state or the key of the last row a merged read gave."""

    partitions: tuple[str, ...]
    interval: int
    driver: PageToken | None = None
    cursor: tuple[Any, ...] | None = None


def _bounds(time_range: TimeRange) -> tuple[int, int]:
    start = 0 if time_range.start is None else to_epoch_ms(time_range.start)
    end = MAX_EPOCH_MS + 1 if time_range.end is None else to_epoch_ms(time_range.end)
    return start, end


def intervals(partitions: tuple[str, ...], start: int, end: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """The spans to read in time order, each with the partitions (by index) holding rows in it.

    Periods of one layout never overlap, so this is one span per period; a month whose layout
    changed holds a coarse period over finer ones, and is cut where any period starts or ends.
    A sweep over the periods in time order: an hour-bucketed month has hundreds of them."""
    by_period: dict[tuple[int, int], list[int]] = {}
    for index, partition in enumerate(partitions):
        low, high = period_span_ms(period_of(partition))
        if low < end and start < high:
            by_period.setdefault((max(low, start), min(high, end)), []).append(index)
    cuts = sorted({edge for span in by_period for edge in span})
    opening = sorted(by_period)
    found: list[tuple[int, int, tuple[int, ...]]] = []
    active: list[tuple[int, int]] = []
    following = 0
    for low, high in itertools.pairwise(cuts):
        while following < len(opening) and opening[following][0] <= low:
            active.append(opening[following])
            following += 1
        active = [span for span in active if span[1] > low]
        members = tuple(sorted(i for span in active for i in by_period[span]))
        if members:
            found.append((low, high, members))
    return found


class BucketReader:
    """Month buckets over the partitions an account has (see the module docstring)."""

    def __init__(self, page: PageCall, unpaged: Unpaged) -> None:
        self._page = page
        self._unpaged = unpaged
        self._listed: dict[tuple[Address, str], tuple[float, tuple[str, ...]]] = {}

    async def list_buckets(
        self, address: Address, page_size: int, token: PageToken | None
    ) -> tuple[list[str], PageToken | None]:
        """Months with entries, oldest first; a month's partitions are remembered for its reads."""
        after = "" if token is None else str(token.state)
        started = time.monotonic()
        months: list[str] = []
        parts: dict[str, list[str]] = {}
        driver: PageToken | None = None
        while True:
            rows, driver = await self._page(
                "buckets_after", (*address.as_tuple(), after), page_size + 1, driver
            )
            for (partition,) in rows:
                month = month_of(partition)
                if month not in parts:
                    months.append(month)
                    parts[month] = []
                parts[month].append(partition)
            if len(months) > page_size or driver is None:
                break
        more = len(months) > page_size
        months = months[:page_size]
        if len(self._listed) > _LISTED_LIMIT:
            self._listed.clear()
        for month in months:
            self._remember(address, month, started, tuple(parts[month]))
        return months, PageToken(months[-1] + AFTER_SUBS) if more else None

    def _remember(self, address: Address, month: str, at: float, partitions: tuple[str, ...]) -> None:
        known = self._listed.get((address, month))
        if known is None or known[0] <= at:
            self._listed[(address, month)] = (at, partitions)

    async def partitions(self, address: Address, month: str) -> tuple[str, ...]:
        """A month's partitions: as just listed, else read from the bucket index."""
        known = self._listed.get((address, month))
        if known is not None and time.monotonic() - known[0] < _LISTED_FOR_S:
            return known[1]
        started = time.monotonic()
        found: list[str] = []
        driver: PageToken | None = None
        while True:
            rows, driver = await self._page(
                "month_partitions", (*address.as_tuple(), month, month + AFTER_SUBS), 1000, driver
            )
            found += [row[0] for row in rows]
            if driver is None:
                break
        self._remember(address, month, started, tuple(found))
        return tuple(found)

    async def read(
        self,
        statement: str,
        address: Address,
        month: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None,
    ) -> tuple[list[Any], PageToken | None]:
        """One page of a month's rows in ledger order (``entries``) or any order (``movements``)."""
        if token is None:
            state = _Token(await self.partitions(address, month) or (month,), 0)
        else:
            resumed = token.state
            if not isinstance(resumed, _Token):
                raise TypeError("a page token of another read")
            state = resumed
        start, end = _bounds(time_range)
        spans = intervals(state.partitions, start, end)
        rows: list[Any] = []
        while state is not None and state.interval < len(spans) and len(rows) < page_size:
            low, high, members = spans[state.interval]
            names = [state.partitions[i] for i in members]
            if len(names) == 1 or statement == "movements":
                found, state = await self._one_by_one(
                    statement, address, names, low, high, page_size - len(rows), state
                )
            else:
                found, state = await self._merge(address, names, low, high, page_size - len(rows), state)
            rows += found
        if state is None or state.interval >= len(spans):
            return rows, None
        return rows, PageToken(state)

    async def _one_by_one(
        self,
        statement: str,
        address: Address,
        names: list[str],
        low: int,
        high: int,
        size: int,
        state: _Token,
    ) -> tuple[list[Any], _Token]:
        # One partition, or a fold's several in one paged request (in no particular order).
        if len(names) == 1:
            bound: tuple[Any, ...] = (*address.as_tuple(), names[0], low, high)
        else:
            statement, bound = statement + "_in", (*address.as_tuple(), names, low, high)
        rows, driver = await self._page(statement, bound, size, state.driver)
        if driver is not None:
            return rows, _Token(state.partitions, state.interval, driver=driver)
        return rows, _Token(state.partitions, state.interval + 1)

    async def _merge(
        self, address: Address, names: list[str], low: int, high: int, size: int, state: _Token
    ) -> tuple[list[Any], _Token]:
        # One request a round: the node reads at most `chunk` rows of each partition after the
        # cursor and merges them in its own clustering order. A partition that gave `chunk` rows
        # may hold more, so rows are kept only up to the first such partition's last row.
        chunk = max(_MERGE_CHUNK, 2 * size // len(names) + 1)
        cursor = state.cursor
        emitted: list[Any] = []
        while len(emitted) < size:
            if cursor is None:
                rows = await self._unpaged("entries_in", (*address.as_tuple(), names, low, high, chunk))
            else:
                bound = (*address.as_tuple(), names, *cursor, high, chunk)
                rows = await self._unpaged("entries_in_after", bound)
            counts = Counter(row[5] for row in rows)
            full = {name for name, count in counts.items() if count >= chunk}
            last_at = {row[5]: i for i, row in enumerate(rows)}
            safe = 1 + min(last_at[name] for name in full) if full else len(rows)
            taken = rows[: min(safe, size - len(emitted))]
            emitted += taken
            if not full and len(taken) == len(rows):
                return emitted, _Token(state.partitions, state.interval + 1)
            last = taken[-1]
            cursor = (last[6], last[7], last[8])
        return emitted, _Token(state.partitions, state.interval, cursor=cursor)
