"""Failure paths: unreachable stores, partial writes healed by retry, immutability, page tokens."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cassandra.protocol import ErrorMessage

from ledger_tui.domain.claims import DEFAULT_CLAIM_SHARDS, shard_of
from ledger_tui.domain.errors import NotConfirmed, StoreUnavailable, ValidationError
from ledger_tui.domain.model import Address, PostStatus, RecordedTransaction
from ledger_tui.domain.paging import PageToken
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.domain.timeutil import TimeRange, to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.store.base import Store
from ledger_tui.store.cassandra import CassandraStore, aio
from ledger_tui.store.cassandra.errors import CAS_WRITE_UNKNOWN
from ledger_tui.store.sqlite import SqliteStore
from ledger_tui.store.url import CassandraUrl, parse_store_url

from ..support.entry_sets import transfer
from ..support.stores import JANITOR, store_url

ACC1 = Address("test_uk", "com.test.customer", "current", "GBP", "acc-1")
WHEN = to_epoch_ms(datetime(2024, 9, 3, 12, tzinfo=UTC))


async def test_cassandra_unreachable_is_store_unavailable() -> None:
    url = parse_store_url("cassandra://127.0.0.1:1/ledger?timeout=2")
    assert isinstance(url, CassandraUrl)
    store = CassandraStore(url)
    with pytest.raises(StoreUnavailable, match="Cassandra did not answer"):
        await store.connect()


async def test_sqlite_unopenable_path_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = SqliteStore(blocker / "ledger.sqlite")
    with pytest.raises(StoreUnavailable, match="cannot open the embedded store"):
        await store.connect()


@pytest.mark.cassandra
@pytest.mark.parametrize("store_kind", ["cassandra"])  # only Cassandra's claim can outlive its batch
async def test_cassandra_claim_without_rows_is_reported_then_healed_by_retry(
    store: Store, engine: Engine
) -> None:
    entry_set = parse_entry_set_json(transfer("12.34", WHEN, transaction_id=uuid.uuid4()))
    recorded = RecordedTransaction(
        entry_set.transaction_id, entry_set.legs, entry_set.payload_hash, datetime(2024, 9, 3, tzinfo=UTC)
    )
    assert isinstance(store, CassandraStore)
    # Simulate a crash right after the idempotency claim: the claim lands, the batch never does.
    shard = shard_of(recorded.transaction_id, DEFAULT_CLAIM_SHARDS)
    await store._execute(
        await store._statement("claim"),
        (shard, recorded.transaction_id, recorded.payload_hash, recorded.legs_json(), 2, 0, uuid.uuid4()),
    )
    report = await engine.verify()
    assert not report.ok and "0 of 2 rows" in report.problems[0]

    retry = await engine.post(entry_set)
    assert retry.status is PostStatus.DUPLICATE
    rows = (await engine.entries(ACC1)).items
    assert [str(e.amount) for e in rows] == ["12.34"]
    assert (await engine.verify()).ok


async def test_sqlite_refuses_updates_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    async with SqliteStore(path) as store:
        await store.apply_schema()
        await Engine(store).post_json(transfer(5, WHEN))
    connection = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        connection.execute("UPDATE ledger_entries SET amount = '6.00'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        connection.execute("DELETE FROM transactions")
    connection.close()


async def test_page_tokens_can_be_replayed_to_page_back(engine: Engine) -> None:
    for day in range(1, 26):
        await engine.post_json(transfer(day, to_epoch_ms(datetime(2024, 9, day, tzinfo=UTC))))
    tokens: list[PageToken | None] = [None]
    pages: list[list[str]] = []
    while True:
        page = await engine.entries(ACC1, TimeRange(), page_size=7, token=tokens[-1])
        pages.append([e.entry_id for e in page.items])
        if page.next_token is None:
            break
        tokens.append(page.next_token)
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    for token, expected in reversed(list(zip(tokens, pages, strict=True))):  # walk back
        again = await engine.entries(ACC1, TimeRange(), page_size=7, token=token)
        assert [e.entry_id for e in again.items] == expected


def test_page_token_hides_its_state() -> None:
    from ledger_tui.domain.paging import PageToken

    assert repr(PageToken(b"secret-partition-key")) == "PageToken(<opaque>)"


@pytest.mark.parametrize("query", ["SELECT_NEXT_ENTRIES", "SELECT_NEXT_MOVEMENTS"])
def test_sqlite_next_page_seeks_to_the_last_key(tmp_path: Path, query: str) -> None:
    """Deep pages must not scan from the range start (page N once cost O(N) on SQLite)."""
    from ledger_tui.store.sqlite import sql as sqlite_sql

    connection = sqlite3.connect(tmp_path / "plan.sqlite")
    connection.executescript(sqlite_sql.SCHEMA)
    plan = connection.execute(
        "EXPLAIN QUERY PLAN " + getattr(sqlite_sql, query),
        ("a", "b", "c", "GBP", "d", "2024-09", 1, "x", 0, 2, 100),
    ).fetchall()
    connection.close()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "USING PRIMARY KEY" in detail and "(effective_at,transaction_id,leg)>" in detail, detail


async def test_a_page_token_only_resumes_its_own_read(engine: Engine) -> None:
    for minute in range(3):
        await engine.post_json(transfer("1.00", WHEN + minute * 60_000))
    page = await engine.entries(ACC1, TimeRange(), page_size=1)
    assert page.next_token is not None
    acc2 = Address("test_uk", "com.test.customer", "current", "GBP", "acc-2")
    with pytest.raises(ValueError, match="belongs to another read"):
        await engine.entries(acc2, TimeRange(), page_size=1, token=page.next_token)
    with pytest.raises(ValueError, match="belongs to another read"):
        await engine.entries(ACC1, TimeRange(None, datetime(2030, 1, 1, tzinfo=UTC)), 1, page.next_token)


@pytest.mark.cassandra
async def test_claim_shards_are_chosen_at_creation_and_kept(tmp_path: Path) -> None:
    """``claim_shards`` in the URL sets a new ledger's count; reopening keeps it (with or without
    the option), and naming another count for the ledger is refused before anything is written."""
    url = store_url("cassandra", tmp_path)
    created = CassandraStore(_cassandra(f"{url}?claim_shards=3"))
    await created.connect()
    await created.apply_schema()
    receipt = await Engine(created).post_json(transfer("5.00", WHEN))
    try:
        assert (await created.read_settings())["claim_shards"] == "3"
        for again in (url, f"{url}?claim_shards=3"):
            reopened = CassandraStore(_cassandra(again))
            await reopened.connect()
            assert await reopened.get_transaction(receipt.transaction_id) is not None  # found in shard % 3
            await reopened.close()
        other = CassandraStore(_cassandra(f"{url}?claim_shards=8"))
        await other.connect()
        with pytest.raises(ValidationError) as refused:  # a refusal: nothing was written
            await Engine(other).post_json(transfer("6.00", WHEN))
        [problem] = refused.value.problems
        assert problem.field == "store.claim_shards" and "created with 3 claim shards" in problem.reason
        await other.close()
    finally:
        await created.close()
        JANITOR.drop(url)


def _cassandra(text: str) -> CassandraUrl:
    parsed = parse_store_url(text)
    assert isinstance(parsed, CassandraUrl)
    return parsed


@pytest.mark.cassandra
@pytest.mark.parametrize("store_kind", ["cassandra"])  # only Cassandra's claims are conditional
@pytest.mark.parametrize("applied", [True, False], ids=["claim-landed", "claim-lost"])
async def test_a_claim_whose_outcome_is_unknown_is_retried_and_stored_once(
    store: Store, engine: Engine, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """Cassandra 5 answers a conditional write whose proposal reached fewer replicas than a
    quorum with CAS_WRITE_UNKNOWN (0x1700), a bare server message the driver has no class for;
    it once escaped every handler and ended a writer (the ring fault test, a node going down).
    Here the node's first answer to the claim batch is replaced by that error, after the batch
    ran (the claim landed) or instead of it (it did not): the post is retried and the set is
    stored exactly once, complete."""
    assert isinstance(store, CassandraStore)
    claim_id = (await store._statement("claim")).query_id
    real_execute = aio.execute
    injected: list[object] = []

    def is_claim_batch(statement: object) -> bool:
        members = getattr(statement, "_statements_and_parameters", [])
        return any(query_id == claim_id for _prepared, query_id, _values in members)

    async def execute(session: object, statement: object, *args: object, **kwargs: object) -> aio.Result:
        if not injected and is_claim_batch(statement):
            injected.append(statement)
            if applied:
                await real_execute(session, statement, *args, **kwargs)
            raise ErrorMessage(code=CAS_WRITE_UNKNOWN, message="CAS operation result is unknown", info=None)
        return await real_execute(session, statement, *args, **kwargs)

    monkeypatch.setattr(aio, "execute", execute)
    entry_set = parse_entry_set_json(transfer("12.34", WHEN, transaction_id=uuid.uuid4()))
    receipt = await engine.post(entry_set)
    assert injected, "no conditional write was made"
    assert receipt.status is PostStatus.RECORDED  # a landed claim carries this write's token: ours
    assert [str(e.amount) for e in (await engine.entries(ACC1)).items] == ["12.34"]
    report = await engine.verify()
    assert report.ok and report.transactions == 1, report.problems


@pytest.mark.cassandra
@pytest.mark.parametrize("store_kind", ["cassandra"])
async def test_another_classless_server_error_is_a_ledger_error_not_a_driver_one(
    store: Store, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server error code the driver has no class for, other than an unknown CAS outcome, is
    not retried and reaches the caller as the ledger's own error, naming the server's message
    (past the claim log: "not confirmed, retry with the same id"), never a raw driver exception."""
    assert isinstance(store, CassandraStore)
    claim_id = (await store._statement("claim")).query_id
    real_execute = aio.execute
    attempts: list[object] = []

    async def execute(session: object, statement: object, *args: object, **kwargs: object) -> aio.Result:
        members = getattr(statement, "_statements_and_parameters", [])
        if any(query_id == claim_id for _prepared, query_id, _values in members):
            attempts.append(statement)
            raise ErrorMessage(code=0x1234, message="something new", info=None)
        return await real_execute(session, statement, *args, **kwargs)

    monkeypatch.setattr(aio, "execute", execute)
    entry_set = parse_entry_set_json(transfer("12.34", WHEN, transaction_id=uuid.uuid4()))
    with pytest.raises(NotConfirmed, match=r"Cassandra refused the request.*something new"):
        await engine.post(entry_set)
    assert len(attempts) == 1  # not retried
