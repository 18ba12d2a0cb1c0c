"""Test ledgers lent again on the node are what ``schema apply`` makes of a new keyspace: every
test on Cassandra relies on it, so it is proven here against a keyspace made new."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.url import parse_store_url

from ..support.entry_sets import transfer
from ..support.stores import JANITOR, SCHEMA_TABLES, FixedClock, run_cql, store_url

pytestmark = pytest.mark.cassandra


async def _use(url: str) -> tuple[dict[str, str], int]:
    """Apply the schema and read what a test starts with (settings, sets), then post a set and
    put a limit on an account (rows in most tables, and settings of its own)."""
    store = open_store(parse_store_url(url))
    await store.connect()
    try:
        await store.apply_schema()
        settings = dict(await store.read_settings())
        engine = Engine(store, clock=FixedClock(datetime.now(UTC)))
        sets = sum([len(page) async for page in engine.books().sets()])
        await engine.post(parse_entry_set_json(transfer("5.00", 1727347200000, transaction_id=uuid.uuid4())))
        await engine.limits().set("test_uk/com.test.customer/current/GBP/acc-a", "0", None, "ops")
        return settings, sets
    finally:
        await store.close()


def test_a_ledger_given_back_is_lent_again_as_a_new_one_would_be(tmp_path: Path) -> None:
    new = store_url("cassandra", tmp_path)
    try:
        new_settings, _ = asyncio.run(_use(new))
    finally:
        JANITOR.drop(new)
    first = JANITOR.lend()
    asyncio.run(_use(first))
    JANITOR.give_back(first)
    again = JANITOR.lend()
    try:
        assert again == first, "an emptied keyspace is lent before a new one is made"
        for table in sorted(SCHEMA_TABLES - {"ledger_settings"}):
            assert run_cql(again, f"SELECT * FROM {{ks}}.{table} LIMIT 1") == [], table
        settings, sets = asyncio.run(_use(again))
        assert (settings, sets) == (new_settings, 0)
    finally:
        JANITOR.give_back(again)


def test_a_ledger_a_test_changed_is_dropped_not_lent_again() -> None:
    lent = JANITOR.lend()
    asyncio.run(_use(lent))
    run_cql(lent, "DROP TABLE {ks}.node_late_marks")  # as a test making it look like an older ledger
    JANITOR.give_back(lent)
    again = JANITOR.lend()
    try:
        assert again != lent
    finally:
        JANITOR.give_back(again)
