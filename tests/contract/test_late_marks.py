"""Late marks read back exactly as the materialisation made them, page by page, on both stores;
on Cassandra a ledger whose marks were first written as rows (before the per-node maps) still
has every one of them read after ``schema apply``, merged with the maps by the later mark."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.blocks import SealPolicy, account_node, day_of
from ledger_tui.domain.materialise import materialise
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.paging import PageToken
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.domain.timeutil import to_epoch_ms, truncate_to_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.base import Store
from ledger_tui.store.cassandra import CassandraStore
from ledger_tui.store.cassandra.marks import MARKS_SETTING, NODE_MAPS, ROWS_AND_NODE_MAPS
from ledger_tui.store.url import parse_store_url

from ..support.entry_sets import transfer
from ..support.stores import JANITOR, FixedClock, store_url

DAY_MS = 86_400_000
START = datetime(2024, 9, 1, tzinfo=UTC)


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
    start = to_epoch_ms(START)
    expected: dict[tuple[str, int], datetime] = {}
    # Each round records several back-dated sets at one time (one map update marks many days of
    # a node); the last round is recorded before the others, so its marks arrive last but lose.
    for round_, minutes in enumerate((7, 7, -30)):
        clock.advance(minutes=minutes)
        sets = [
            parse_entry_set_json(transfer("1.00", start + day * DAY_MS + round_, debit=f"a{day % 3}"))
            for day in range(round_, 9, 2)
        ]
        outcomes = await engine.record_batch(sets)
        assert not any(outcome.duplicate or outcome.conflicting for outcome in outcomes)
        recorded_at = truncate_to_ms(clock.now)
        rows = materialise([RecordedTransaction.of(s, recorded_at) for s in sets], SealPolicy())
        for key, mark in rows.marks.items():
            expected[key] = max(mark, expected.get(key, mark))
    assert len({mark for mark in expected.values()}) == 2  # the earliest round never wins a day
    nodes = {node for node, _day in expected}
    first_day = day_of(START)
    for node in nodes:
        wanted = sorted((day, mark) for (n, day), mark in expected.items() if n == node)
        assert await marks_of(store, node, 0, 10**6, 1000) == wanted
        assert await marks_of(store, node, 0, 10**6, 2) == wanted
        inside = [(day, mark) for day, mark in wanted if first_day + 2 <= day < first_day + 6]
        assert await marks_of(store, node, first_day + 2, first_day + 6, 1) == inside
    assert await marks_of(store, next(iter(nodes)), first_day + 5, first_day + 5, 10) == []


@pytest.mark.cassandra
async def test_an_upgraded_ledger_reads_its_mark_rows_merged_with_the_maps(tmp_path: Path) -> None:
    url = store_url("cassandra", tmp_path)
    store = open_store(parse_store_url(url))
    assert isinstance(store, CassandraStore)
    await store.connect()
    try:
        await store.apply_schema()
        assert (await store.read_settings())[MARKS_SETTING] == NODE_MAPS  # a new ledger: maps only
        await _upgrade_keeps_rows(store)
    finally:
        await store.close()
        JANITOR.drop(url)


async def _upgrade_keeps_rows(store: CassandraStore) -> None:
    session, keyspace = store._session, store._url.keyspace
    # The keyspace as the version before the maps left it: no map table, no setting, mark rows.
    session.execute(f"DROP TABLE {keyspace}.node_late_marks")
    session.execute(
        session.prepare(f"DELETE FROM {keyspace}.ledger_settings WHERE name = ?"), (MARKS_SETTING,)
    )
    insert_row = session.prepare(
        f"INSERT INTO {keyspace}.late_marks (node, day, last_late) VALUES (?, ?, ?) USING TIMESTAMP ?"
    )
    account = parse_address("test_uk/com.test.customer/current/GBP/acc-1")
    node, day = account_node(account), day_of(START)
    early, late = datetime(2024, 11, 5, 8, tzinfo=UTC), datetime(2024, 11, 5, 11, tzinfo=UTC)
    for offset, at in ((0, late), (1, early), (3, early)):
        session.execute(insert_row, (node, day + offset, at, to_epoch_ms(at) * 1000))

    await store.apply_schema()  # the upgrade
    assert (await store.read_settings())[MARKS_SETTING] == ROWS_AND_NODE_MAPS
    posted_at = FixedClock(datetime(2024, 11, 5, 9, 30, tzinfo=UTC))
    engine = Engine(store, clock=posted_at)
    for offset in (0, 1, 2):  # back-dated: marks (in the map) at 09:30, between early and late
        await engine.post(parse_entry_set_json(transfer("1.00", to_epoch_ms(START) + offset * DAY_MS)))
    merged = [(day, late), (day + 1, posted_at.now), (day + 2, posted_at.now), (day + 3, early)]
    assert await marks_of(store, node, 0, 10**6, 10) == merged
    assert await marks_of(store, node, 0, 10**6, 1) == merged
    assert await marks_of(store, node, day + 1, day + 3, 1) == merged[1:3]
