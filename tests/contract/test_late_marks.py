"""Late marks read back exactly as the materialisation made them, page by page, on both stores;
on Cassandra a ledger whose marks were first written as rows (before the per-node maps) still
has every one of them read, merged with the maps by the later mark per day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger_tui.domain.blocks import SealPolicy, day_of
from ledger_tui.domain.materialise import materialise
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.paging import PageToken
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.base import Store
from ledger_tui.store.cassandra import CassandraStore
from ledger_tui.store.cassandra_marks import MARKS_SETTING, NODE_MAPS, ROWS_AND_NODE_MAPS
from ledger_tui.store.url import parse_store_url

from ..support.entry_sets import transfer
from ..support.stores import FixedClock, drop_keyspace_of, store_url

DAY_MS = 86_400_000


async def marks_of(
    store: Store, node: str, first: int, until: int, page_size: int
) -> list[tuple[int, datetime]]:
    """Every mark of ``node`` in [first, until), page after page."""
    found: list[tuple[int, datetime]] = []
    token: PageToken | None = None
    while True:
        page = await store.read_marks(node, first, until, page_size, token)
        assert len(page.items) <= page_size
        found += page.items
        token = page.next_token
        if token is None:
            return found


async def test_marks_read_back_as_materialised_in_pages(
    store: Store, make_engine: Callable[..., Engine], clock: FixedClock
) -> None:
    engine = make_engine()
    start = to_epoch_ms(datetime(2024, 9, 1, tzinfo=UTC))
    expected: dict[tuple[str, int], datetime] = {}
    for round_ in range(3):  # later rounds mark some of the same days again, later
        clock.advance(minutes=7)
        for day in range(round_, 9, 2):
            entry_set = parse_entry_set_json(
                transfer("1.00", start + day * DAY_MS + round_, debit=f"a{day % 3}")
            )
            receipt = await engine.post(entry_set)
            recorded = RecordedTransaction.of(entry_set, receipt.recorded_at)
            for key, mark in materialise([recorded], SealPolicy()).marks.items():
                expected[key] = max(mark, expected.get(key, mark))
    assert expected  # the entries are back-dated: every one is late
    nodes = {node for node, _day in expected}
    first_day = day_of(datetime(2024, 9, 1, tzinfo=UTC))
    for node in nodes:
        wanted = sorted((day, mark) for (n, day), mark in expected.items() if n == node)
        assert await marks_of(store, node, 0, 10**6, 1000) == wanted
        assert await marks_of(store, node, 0, 10**6, 2) == wanted
        inside = [(day, mark) for day, mark in wanted if first_day + 2 <= day < first_day + 6]
        assert await marks_of(store, node, first_day + 2, first_day + 6, 1) == inside
    assert await marks_of(store, next(iter(nodes)), first_day + 5, first_day + 5, 10) == []


@pytest.mark.cassandra
async def test_a_ledger_with_mark_rows_reads_them_merged_with_the_maps(tmp_path: Path) -> None:
    url = store_url("cassandra", tmp_path)
    store = open_store(parse_store_url(url))
    assert isinstance(store, CassandraStore)
    await store.connect()
    try:
        await store.apply_schema()
        await _rows_and_maps(store, url)
    finally:
        await drop_keyspace_of(url)
        await store.close()


async def _rows_and_maps(store: CassandraStore, url: str) -> None:
    assert (await store.read_settings())[MARKS_SETTING] == NODE_MAPS  # a new ledger: maps only
    session = store._session
    keyspace = store._url.keyspace
    insert_row = session.prepare(
        f"INSERT INTO {keyspace}.late_marks (node, day, last_late) VALUES (?, ?, ?) USING TIMESTAMP ?"
    )
    insert_map = session.prepare(
        f"UPDATE {keyspace}.node_late_marks USING TIMESTAMP ? SET days = days + ? WHERE node = ?"
    )
    early, late = datetime(2024, 9, 3, tzinfo=UTC), datetime(2024, 9, 5, tzinfo=UTC)

    def row(day: int, at: datetime) -> None:
        session.execute(insert_row, ("n", day, at, to_epoch_ms(at) * 1000))

    def in_map(day: int, at: datetime) -> None:
        session.execute(insert_map, (to_epoch_ms(at) * 1000, {day: to_epoch_ms(at)}, "n"))

    row(10, late)
    in_map(10, early)  # the row's mark is the later one
    row(11, early)
    in_map(11, late)  # the map's mark is the later one
    row(12, early)  # only a row
    in_map(13, early)  # only in the map
    assert await marks_of(store, "n", 0, 100, 10) == [(10, early), (11, late), (13, early)]  # maps only

    # The same data on a ledger from before the maps: no layout setting, rows in late_marks.
    session.execute(
        session.prepare(f"DELETE FROM {keyspace}.ledger_settings WHERE name = ?"), (MARKS_SETTING,)
    )
    older = open_store(parse_store_url(url))
    assert isinstance(older, CassandraStore)
    await older.connect()
    try:
        merged = [(10, late), (11, late), (12, early), (13, early)]
        assert await marks_of(older, "n", 0, 100, 10) == merged
        assert await marks_of(older, "n", 0, 100, 1) == merged
        assert await marks_of(older, "n", 11, 13, 1) == merged[1:3]
        assert (await older.read_settings())[MARKS_SETTING] == ROWS_AND_NODE_MAPS
    finally:
        await older.close()
    assert early + timedelta(days=2) == late
