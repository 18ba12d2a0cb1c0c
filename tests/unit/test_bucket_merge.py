"""BucketReader's paged, merged reads equal the obvious answer: every row of the account, sorted.

An in-memory fake stands in for Cassandra and answers exactly the statements the reader sends:
paged (``buckets_after``, ``month_partitions``, ``entries``, ``movements``, ``movements_in``) with
at most ``page_size`` rows a page and a driver paging token, and unpaged (``entries_in``,
``entries_in_after``: several partitions at once, each cut at its PER PARTITION LIMIT, merged in
clustering order as the node merges them). Each partition keeps its rows in clustering order:
effective_at, then transaction_id in Cassandra's ``uuid`` order, then leg. Random accounts spread
their entries over the partitions of random layouts (plain months; months, days and hours with
sub-partitions; several layouts in one month, as after a layout change mid-month), every entry in
exactly one partition, placed by ``domain.layout`` from its effective time, with many ties on
effective_at. For random page sizes and time ranges:

- the pages of ``entries`` are every row of the month in the range, once, in clustering order;
- the pages of ``movements`` are the same rows (as a multiset);
- the pages of ``list_buckets`` are every month of the bucket index, once, oldest first;
- a page before the last is full, and a new reader (its memo empty, the bucket index out of its
  reach) resumes a read from the token alone;
- no partition is asked for a span its period holds no row of.
"""

from __future__ import annotations

import bisect
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.layout import (
    BUCKET_SIZES,
    AccountLayout,
    Layouts,
    month_of,
    partition_name,
    period_name,
    period_of,
    period_span_ms,
)
from ledger_tui.domain.model import Address, Side
from ledger_tui.domain.paging import PageToken
from ledger_tui.domain.timeutil import TimeRange, bucket_after, bucket_start, from_epoch_ms, to_epoch_ms
from ledger_tui.store.cassandra import buckets
from ledger_tui.store.cassandra.buckets import BucketReader

ADDRESS = Address("le", "ns", "ops", "GBP", "settlement")
#: December to January crosses a year; February is short.
MONTHS = ("2025-12", "2026-01", "2026-02", "2026-03")
_HOUR = 3_600_000
_DAY = 24 * _HOUR
_MASK64 = (1 << 64) - 1
#: Recorded time of the first layout change (the others follow a second apart); rows recorded
#: before it are in plain months.
_SINCE = to_epoch_ms(bucket_start("2026-06"))
#: First halves shared by many ids, so that ties on effective_at go down to the second half.
_SHARED_MSB = (0, 0x0123_4567_89AB_CDEF, _MASK64)
_INDEX_STATEMENTS = ("buckets_after", "month_partitions")

Row = tuple[Any, ...]


def month_span(month: str) -> tuple[int, int]:
    return to_epoch_ms(bucket_start(month)), to_epoch_ms(bucket_start(bucket_after(month)))


def cassandra_uuid_key(value: uuid.UUID) -> tuple[int, int, int]:
    """Cassandra's ``uuid`` order (UUIDType.compareCustom): the version; then the timestamp for
    version 1 (time_hi, time_mid, time_low) or else the high 64 bits unsigned; then the low 64
    bits unsigned."""
    msb, lsb = value.int >> 64, value.int & _MASK64
    version = (msb >> 12) & 0xF
    if version == 1:
        msb = ((msb << 48) | ((msb << 16) & 0xFFFF_0000_0000) | (msb >> 32)) & _MASK64
    return version, msb, lsb


def clustering_key(row: Row) -> tuple[Any, ...]:
    """(effective_at, transaction_id, leg) of an ``entries`` row, in Cassandra's order."""
    return row[6], cassandra_uuid_key(row[7]), row[8]


def movement(row: Row) -> Row:
    return row[6], row[12], row[9], row[10]


class FakeCassandra:
    """The reader's statements over partitions of rows: paged as the driver pages, and merged
    with a per-partition limit as the node merges an IN request ordered by clustering columns."""

    def __init__(
        self, rows: list[Row], index: set[str], token_when_full: bool, cap: int | None = None
    ) -> None:
        self.partitions: dict[str, list[Row]] = {}
        for row in rows:
            self.partitions.setdefault(row[5], []).append(row)
        for found in self.partitions.values():
            found.sort(key=clustering_key)
            keys = [clustering_key(row) for row in found]
            assert len(set(keys)) == len(keys), "one row per clustering key, as Cassandra keeps"
        self.keys = {name: [clustering_key(row) for row in found] for name, found in self.partitions.items()}
        self.index = sorted(index | set(self.partitions))
        #: Cassandra may give a paging state with a full last page (the next page is then empty).
        self.token_when_full = token_when_full
        #: Rows a page holds at most whatever the page size (a page is at most page_size rows, not
        #: always that many: a reader must follow the paging state, not count rows).
        self.cap = cap

    def _slice(self, bucket: str, low: tuple[Any, ...], high: tuple[Any, ...], after: bool) -> list[Row]:
        """A partition's rows from ``low`` (or after it) to before ``high``, in clustering order."""
        keys = self.keys.get(bucket, [])
        first = bisect.bisect_right(keys, low) if after else bisect.bisect_left(keys, low)
        return self.partitions.get(bucket, [])[first : bisect.bisect_left(keys, high)]

    def _touched(self, bucket: object, start: int, end: int) -> str:
        """A partition asked for rows from ``start`` to ``end``: its period must hold some of them."""
        assert isinstance(bucket, str) and isinstance(start, int) and isinstance(end, int)
        low, high = period_span_ms(period_of(bucket))
        assert low < end and start < high, f"{bucket} read from {start} to {end}: it holds no such row"
        return bucket

    def _partitions(self, names: object, start: int, end: int) -> list[str]:
        assert isinstance(names, list) and names, "IN takes a list of partitions"
        assert len(set(names)) == len(names)
        return [self._touched(bucket, start, end) for bucket in names]

    def _select(self, name: str, rest: tuple[Any, ...]) -> list[Any]:
        if name == "buckets_after":
            (after,) = rest
            return [(bucket,) for bucket in self.index if bucket > after]
        if name == "month_partitions":
            low, high = rest
            return [(bucket,) for bucket in self.index if low <= bucket < high]
        if name in ("entries", "movements"):
            bucket, start, end = rest
            found = self._slice(self._touched(bucket, start, end), (start,), (end,), after=False)
            return found if name == "entries" else [movement(row) for row in found]
        if name == "movements_in":  # no ORDER BY: partition after partition
            names, start, end = rest
            return [
                movement(row)
                for bucket in self._partitions(names, start, end)
                for row in self._slice(bucket, (start,), (end,), after=False)
            ]
        raise AssertionError(f"unexpected paged statement {name}")

    async def page(
        self, name: str, parameters: tuple[Any, ...], page_size: int, token: PageToken | None
    ) -> tuple[list[Any], PageToken | None]:
        assert page_size >= 1, f"{name} asked for a page of {page_size}"
        assert parameters[:5] == ADDRESS.as_tuple()
        found = self._select(name, parameters[5:])
        offset = 0
        if token is not None:
            state = token.state
            assert isinstance(state, tuple), "a paging state the fake did not make"
            assert state[:2] == (name, parameters), "a paging state resumed with another query"
            offset = state[2]
        rows = found[offset : offset + min(page_size, self.cap or page_size)]
        upto = offset + len(rows)
        more = upto < len(found) or (self.token_when_full and len(rows) == page_size)
        return rows, PageToken((name, parameters, upto)) if more else None

    async def unpaged(self, name: str, parameters: tuple[Any, ...]) -> list[Any]:
        """``entries_in`` and ``entries_in_after``: at most ``limit`` rows of each partition (the
        first in clustering order), all of them in clustering order."""
        assert parameters[:5] == ADDRESS.as_tuple()
        rest = parameters[5:]
        if name == "entries_in":
            names, start, end, limit = rest
            low: tuple[Any, ...] = (start,)
            names = self._partitions(names, start, end)
        elif name == "entries_in_after":
            names, effective, transaction_id, leg, end, limit = rest
            assert isinstance(transaction_id, uuid.UUID)
            low = (effective, cassandra_uuid_key(transaction_id), leg)
            names = self._partitions(names, effective, end)
        else:
            raise AssertionError(f"unexpected unpaged statement {name}")
        assert isinstance(limit, int) and limit >= 1, f"PER PARTITION LIMIT {limit}"
        each = [
            self._slice(bucket, low, (end,), after=name == "entries_in_after")[:limit] for bucket in names
        ]
        return sorted((row for rows in each for row in rows), key=clustering_key)

    async def index_free_page(
        self, name: str, parameters: tuple[Any, ...], page_size: int, token: PageToken | None
    ) -> tuple[list[Any], PageToken | None]:
        """For a reader that only resumes: its token must carry the month's partitions."""
        assert name not in _INDEX_STATEMENTS, f"a resumed read looked in the bucket index ({name})"
        return await self.page(name, parameters, page_size, token)

    def reader(self) -> BucketReader:
        return BucketReader(self.page, self.unpaged)

    def resuming_reader(self) -> BucketReader:
        return BucketReader(self.index_free_page, self.unpaged)


@dataclass(frozen=True)
class Account:
    rows: list[Row]
    index: set[str]  # partitions listed in the bucket index without rows (besides those with rows)
    ranges: dict[str, TimeRange]  # the range each month is read over
    sizes: list[int]  # page sizes, used in turn
    fresh: list[bool]  # whether the next page is read by a new reader (from the token alone)
    listed_first: bool  # reads follow list_buckets (its remembered partitions) or use the index
    token_when_full: bool
    cap: int | None  # the most rows a page of the fake holds (None: page_size)
    chunk: int | None  # least rows a merge reads per partition and round (None: the reader's own)


def instants(draw: st.DrawFn, month: str) -> list[int]:
    """A few instants of a month, mostly on or next to day and hour edges, so that entries tie."""
    start, end = month_span(month)
    days = draw(st.lists(st.integers(0, (end - start) // _DAY - 1), min_size=1, max_size=3))
    pool = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            pool.append(start)
        elif kind == 1:
            pool.append(end - 1)
        else:
            day = draw(st.sampled_from(days))
            hour = draw(st.sampled_from((0, 23)) | st.integers(0, 23))
            offset = draw(st.sampled_from((0, 1, _HOUR - 1)) | st.integers(0, _HOUR - 1))
            pool.append(start + day * _DAY + hour * _HOUR + offset)
    return pool


def txids() -> st.SearchStrategy[uuid.UUID]:
    """Any UUID a client may send: several versions, any variant, many sharing their first half."""

    def build(version: int, msb: int, lsb: int) -> uuid.UUID:
        return uuid.UUID(int=(((msb & ~0xF000) | (version << 12)) << 64) | lsb)

    return st.builds(
        build,
        st.sampled_from((1, 4, 4, 5, 7, 0)),
        st.sampled_from(_SHARED_MSB) | st.integers(0, _MASK64),
        st.sampled_from((0, 1, 1 << 63, _MASK64)) | st.integers(0, _MASK64),
    )


def time_bound(draw: st.DrawFn, pool: list[int]) -> int | None:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return None
    if kind == 1:  # a month's edge, or a day before or after every month read
        month = draw(st.sampled_from((*MONTHS, bucket_after(MONTHS[-1]))))
        return month_span(month)[0] + draw(st.sampled_from((-_DAY, -1, 0, 1)))
    return draw(st.sampled_from(pool)) + draw(st.sampled_from((-1, 0, 0, 1)))


def place(
    layouts: Layouts, transaction_id: uuid.UUID, recorded: int, legs: list[tuple[int, int]]
) -> list[Row]:
    """The rows of one set on the account, each in the partition its layout and time give it."""
    rows = []
    for leg, effective in legs:
        partition = layouts.partition(ADDRESS, effective, recorded, transaction_id)
        low, high = period_span_ms(period_of(partition))
        assert low <= effective < high and month_of(partition) == period_name(effective, "month")
        side = (Side.DEBIT if (transaction_id.int + leg) % 3 else Side.CREDIT).value
        rows.append((*ADDRESS.as_tuple(), partition, effective, transaction_id, leg, side, "", "", recorded))
    return rows


@st.composite
def accounts(draw: st.DrawFn, bulk: bool = False) -> Account:
    # bulk: wide merges (many sub-partitions, at least one layout change) of many rows
    sub_counts = st.integers(2, 8) if bulk else st.integers(1, 4)
    changes = [
        AccountLayout(ADDRESS, from_epoch_ms(_SINCE + 1000 * number), bucket, count)
        for number, (bucket, count) in enumerate(
            draw(
                st.lists(
                    st.tuples(st.sampled_from(BUCKET_SIZES), sub_counts),
                    min_size=1 if bulk else 0,
                    max_size=3,
                )
            )
        )
    ]
    layouts = Layouts(changes)
    months = draw(st.lists(st.sampled_from(MONTHS), min_size=1, max_size=1 if bulk else 3, unique=True))
    pool = [moment for month in sorted(months) for moment in instants(draw, month)]
    rows: list[Row] = []
    ids = draw(st.lists(txids(), min_size=1, max_size=20, unique=True))
    for transaction_id in ids:
        era = draw(st.integers(-1, len(changes) - 1))  # the layout in force when the set was recorded
        recorded = _SINCE - 1 if era < 0 else changes[era].since_ms + draw(st.integers(0, 999))
        first = draw(st.sampled_from(pool))
        legs = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
        effective = [first if draw(st.booleans()) else draw(st.sampled_from(pool)) for _ in legs]
        rows += place(layouts, transaction_id, recorded, list(zip(legs, effective, strict=True)))
    if bulk:  # more rows than a merge reads of a partition a round (drawn from a seed: fast)
        rng = draw(st.randoms(use_true_random=False))
        for _ in range(rng.randint(60, 160)):
            transaction_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            if transaction_id in ids:
                continue
            ids.append(transaction_id)
            era = rng.randint(-1, len(changes) - 1)
            recorded = _SINCE - 1 if era < 0 else changes[era].since_ms + rng.randint(0, 999)
            first = rng.choice(pool)
            legs = rng.sample(range(6), rng.randint(1, 3))
            effective = [first if rng.random() < 0.7 else rng.choice(pool) for _ in legs]
            rows += place(layouts, transaction_id, recorded, list(zip(legs, effective, strict=True)))
    # every row its own amount, so that a movement lost or read twice shows
    rows = [(*row[:10], Decimal(number + 1).scaleb(-2), *row[11:]) for number, row in enumerate(rows)]
    empty = set()  # listed in the index, but its rows never came (or not yet)
    for _ in range(draw(st.integers(0, 2))):
        start, end = month_span(draw(st.sampled_from(MONTHS)))
        moment = draw(st.sampled_from(pool) | st.integers(start, end - 1))
        period = period_name(moment, draw(st.sampled_from(BUCKET_SIZES)))
        empty.add(partition_name(period, draw(st.integers(1, 4)), draw(txids())))
    ranges = {}
    for month in MONTHS:
        low, high = time_bound(draw, pool), time_bound(draw, pool)
        if low is not None and high is not None and low > high:
            low, high = high, low
        ranges[month] = TimeRange(
            None if low is None else from_epoch_ms(low), None if high is None else from_epoch_ms(high)
        )
    # tiny pages of many rows are slow, and the small accounts have them
    page_sizes = st.integers(4, 50) if bulk else st.integers(1, 50) | st.sampled_from((1, 2, 3))
    return Account(
        rows=rows,
        index=empty,
        ranges=ranges,
        sizes=draw(st.lists(page_sizes, min_size=1, max_size=4)),
        fresh=draw(st.lists(st.booleans(), min_size=1, max_size=4)),
        listed_first=draw(st.booleans()),
        token_when_full=draw(st.booleans()),
        cap=None if bulk else draw(st.sampled_from((None, 1, 2, 3))),
        chunk=None if bulk else draw(st.sampled_from((1, 2, 3, None))),
    )


async def list_all(fake: FakeCassandra, account: Account, reader: BucketReader) -> list[str]:
    """Every month, paged with the page sizes in turn (1 to 5), a new reader now and then."""
    months: list[str] = []
    token: PageToken | None = None
    for number in range(len(fake.index) + 2):
        size = account.sizes[number % len(account.sizes)] % 5 + 1
        if number and account.fresh[number % len(account.fresh)]:
            reader = fake.reader()
        found, token = await reader.list_buckets(ADDRESS, size, token)
        assert len(found) <= size
        assert token is None or len(found) == size, "a short page of months before the last"
        assert found or not number, "a token, then no month: list_buckets looks one month ahead"
        months += found
        if token is None:
            return months
    raise AssertionError("list_buckets never ended")


async def read_all(
    fake: FakeCassandra, account: Account, reader: BucketReader, statement: str, month: str, limit: int
) -> list[Row]:
    """Every page of one read, resumed now and then by a new reader that has only the token."""
    rows: list[Row] = []
    token: PageToken | None = None
    for number in range(limit):
        size = account.sizes[number % len(account.sizes)]
        if number and account.fresh[number % len(account.fresh)]:
            reader = fake.resuming_reader()
        page, token = await reader.read(statement, ADDRESS, month, account.ranges[month], size, token)
        assert len(page) <= size, f"a page of {len(page)} rows for a page size of {size}"
        assert token is None or len(page) == size, "a short page before the last"
        rows += page
        if token is None:
            return rows
    raise AssertionError(f"{statement} of {month} never ended")


async def check_account(account: Account) -> None:
    fake = FakeCassandra(account.rows, account.index, account.token_when_full, account.cap)
    months = await list_all(fake, account, fake.reader())
    assert months == sorted({month_of(partition) for partition in fake.index})

    listed = fake.reader()
    if account.listed_first:
        await list_all(fake, account, listed)
    for month in MONTHS:
        time_range = account.ranges[month]
        expected = sorted(
            (
                row
                for row in account.rows
                if month_of(row[5]) == month and time_range.contains(from_epoch_ms(row[6]))
            ),
            key=clustering_key,
        )
        limit = len(expected) + 2  # a page before the last is full: no more pages than this
        reader = listed if account.listed_first else fake.reader()
        entries = await read_all(fake, account, reader, "entries", month, limit)
        assert entries == expected, f"entries of {month} over {time_range}"
        reader = listed if account.listed_first else fake.reader()
        movements = await read_all(fake, account, reader, "movements", month, limit)
        assert Counter(movements) == Counter(movement(row) for row in expected), f"movements of {month}"


@settings(max_examples=150, deadline=None)
@given(account=accounts())
async def test_merged_pages_equal_every_row_sorted(account: Account) -> None:
    # A small merge chunk makes partitions outlast a round of the merge with few rows (the cut at
    # the first partition that may hold more, and the cursor, at work); None keeps the reader's own.
    if account.chunk is None:
        await check_account(account)
    else:
        with mock.patch.object(buckets, "_MERGE_CHUNK", account.chunk):
            await check_account(account)


@settings(max_examples=40, deadline=None)
@given(account=accounts(bulk=True))
async def test_merged_pages_of_big_partitions_equal_every_row_sorted(account: Account) -> None:
    await check_account(account)


async def test_the_fake_merges_as_the_node_does() -> None:
    """The fake itself: a per-partition limit takes each partition's first rows, the merge orders
    them by clustering key across partitions, and Cassandra's uuid order is not Python's."""
    v1_late = uuid.UUID("00000000-0000-1001-8000-000000000000")  # time_hi 1: after any time_low
    v1_early = uuid.UUID("ffffffff-ffff-1000-8000-000000000000")
    low_half = uuid.UUID("12345678-9abc-4def-0000-000000000001")
    high_half = uuid.UUID("12345678-9abc-4def-8000-000000000000")
    assert cassandra_uuid_key(v1_early) < cassandra_uuid_key(v1_late) and v1_early.int > v1_late.int
    assert cassandra_uuid_key(low_half) < cassandra_uuid_key(high_half)  # unsigned, not signed
    assert cassandra_uuid_key(v1_late) < cassandra_uuid_key(low_half)  # the version first
    at = month_span("2026-01")[0]

    def row(bucket: str, effective: int, txid: uuid.UUID, leg: int) -> Row:
        return (*ADDRESS.as_tuple(), bucket, effective, txid, leg, "debit", Decimal(leg), "", 0)

    a = [row("2026-01~000", at, high_half, 0), row("2026-01~000", at + 5, v1_late, 0)]
    b = [row("2026-01~001", at, low_half, 1), row("2026-01~001", at, uuid.UUID(int=high_half.int + 1), 0)]
    fake = FakeCassandra(a + b, set(), token_when_full=False)
    names = ["2026-01~000", "2026-01~001"]
    assert await fake.unpaged("entries_in", (*ADDRESS.as_tuple(), names, at, at + 10, 1)) == [b[0], a[0]]
    assert await fake.unpaged("entries_in", (*ADDRESS.as_tuple(), names, at, at + 5, 9)) == [b[0], a[0], b[1]]
    after = (*ADDRESS.as_tuple(), names, at, high_half, 0, at + 10, 9)
    assert await fake.unpaged("entries_in_after", after) == [b[1], a[1]]
    page, token = await fake.page("movements_in", (*ADDRESS.as_tuple(), names, at, at + 10), 3, None)
    assert page == [movement(r) for r in a + b[:1]] and token is not None
