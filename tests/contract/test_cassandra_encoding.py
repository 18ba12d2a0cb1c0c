"""The write path's own row encoder is byte for byte the driver's bind, and packing loses no row.

The fast path (store/cassandra/encode.py) is proven against the slow, obvious one: for rows of
every statement the write path sends, drawn at random, the encoded values and the routing key
equal what ``PreparedStatement.bind`` makes. Runs on the real node (prepared statements carry
the column types the node reports).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.ledger import open_store
from ledger_tui.store.cassandra import CassandraStore
from ledger_tui.store.cassandra.batches import BATCH_BYTES, BATCH_ROWS, pack
from ledger_tui.store.cassandra.encode import (
    MAP_ENTRY_OVERHEAD,
    ROW_OVERHEAD,
    RowEncoder,
    encode_decimal,
    varint,
)
from ledger_tui.store.url import parse_store_url

from ..support.stores import JANITOR

pytestmark = pytest.mark.cassandra

TEXT = st.text(max_size=40)
MILLIS = st.integers(min_value=-(2**62), max_value=2**62)
AMOUNT = st.decimals(
    allow_nan=False, allow_infinity=False, places=None, min_value=-(10**30), max_value=10**30
)
SIDE = st.sampled_from(["debit", "credit"])
ROWS: dict[str, Any] = {
    "insert_entry": st.tuples(
        *[TEXT] * 6, MILLIS, st.uuids(), st.integers(0, 2**31 - 1), SIDE, AMOUNT, TEXT, MILLIS
    ),
    "claim": st.tuples(
        st.integers(0, 2**31 - 1), st.uuids(), TEXT, TEXT, st.integers(0, 2**31 - 1), MILLIS, st.uuids()
    ),
    "insert_tree": st.tuples(TEXT, TEXT),
    "insert_bucket": st.tuples(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT),
    "insert_activity": st.tuples(TEXT, st.integers(-(2**31), 2**31 - 1), TEXT),
    "insert_future_day": st.tuples(TEXT, st.integers(-(2**31), 2**31 - 1)),
    "insert_marks": st.tuples(
        MILLIS, st.dictionaries(st.integers(-(2**31), 2**31 - 1), MILLIS, max_size=12), TEXT
    ),
}


@pytest.fixture
async def cassandra() -> AsyncIterator[CassandraStore]:
    url = JANITOR.lend()
    opened = open_store(parse_store_url(url))
    assert isinstance(opened, CassandraStore)
    await opened.connect()
    await opened.apply_schema()
    yield opened
    await opened.close()
    JANITOR.give_back(url)


def test_varint_and_decimal_match_the_cql_forms() -> None:
    assert [varint(n) for n in (0, 1, 127, 128, 255, -1, -128, -129)] == [
        b"\x00", b"\x01", b"\x7f", b"\x00\x80", b"\x00\xff", b"\xff", b"\x80", b"\xff\x7f",
    ]  # fmt: skip
    assert encode_decimal(Decimal("-1.50")) == b"\x00\x00\x00\x02" + varint(-150)
    with pytest.raises(ValueError, match="not a finite decimal"):
        encode_decimal(Decimal("NaN"))


@pytest.mark.parametrize("name", sorted(ROWS))
async def test_encoded_rows_equal_the_drivers_bind(cassandra: CassandraStore, name: str) -> None:
    prepared = await cassandra._statement(name)
    encoder = RowEncoder(prepared)
    rows: list[tuple[Any, ...]] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(ROWS[name])
    def collect(row: tuple[Any, ...]) -> None:
        rows.append(row)

    collect()
    for row in rows:
        ours, theirs = encoder.bind(row), prepared.bind(row)
        assert ours.values == theirs.values, row
        assert ours.routing_key == theirs.routing_key, row
        assert ours.keyspace == theirs.keyspace
    # Grouped by partition (the key encoded once): every row once, each as bind encodes it,
    # under its partition's routing key, with its batch size.
    rows += rows[: len(rows) // 3]  # some partitions with several rows
    indexes = list(prepared.routing_key_indexes)
    leads = indexes == list(range(len(indexes)))  # an UPDATE has its key last: rows encoded whole
    assert encoder.key_width == (len(indexes) if leads else 0)
    found: list[tuple[bytes | None, ...]] = []
    for part in encoder.partitions(rows):
        for values, size in zip(part.rows, part.sizes, strict=True):
            found.append(tuple(values))
            raw = _raw(rows, values, encoder)
            entries = sum(len(v) for v in raw if isinstance(v, dict))  # the node's cell per map entry
            assert (
                size
                == ROW_OVERHEAD + sum(len(v) for v in values if v is not None) + MAP_ENTRY_OVERHEAD * entries
            )
            assert part.routing_key == prepared.bind(raw).routing_key
    assert sorted(found, key=repr) == sorted((tuple(prepared.bind(r).values) for r in rows), key=repr)


def _raw(rows: list[tuple[Any, ...]], values: list[bytes | None], encoder: RowEncoder) -> tuple[Any, ...]:
    """The drawn row whose encoding is ``values``."""
    return next(row for row in rows if encoder.bind(row).values == values)


async def test_a_value_the_driver_cannot_encode_is_refused_like_bind(cassandra: CassandraStore) -> None:
    encoder = RowEncoder(await cassandra._statement("insert_tree"))
    with pytest.raises(UnicodeEncodeError):
        encoder.bind(("[]", "\ud800"))
    with pytest.raises(ValueError, match="expected 2 values"):
        encoder.bind(("[]",))
    with pytest.raises(UnicodeEncodeError):
        encoder.partition(("[]",), [("a",), ("\ud800",)])
    with pytest.raises(ValueError, match="expected 2 values"):
        encoder.partition(("[]",), [("a", "b")])
    with pytest.raises(ValueError, match="partition key of 1 values"):
        encoder.partition(("[]", "x"), [()])
    with pytest.raises(ValueError, match="partition key value is missing"):
        encoder.partition((None,), [("a",)])


async def test_pack_writes_every_row_once_within_the_batch_limits(cassandra: CassandraStore) -> None:
    encoder = RowEncoder(await cassandra._statement("insert_tree"))
    partitions = []
    for number in range(300):  # partitions of 1..600 rows, some with long values
        width = 1 + (number * 37) % 600 if number % 50 == 0 else 1 + number % 7
        filler = "x" * (number % 5) * 400
        partitions.append(encoder.partition((f"p{number}",), [(f"{filler}{i}",) for i in range(width)]))
    statements = pack(partitions, lambda key: None if key is None else key[:2])
    written: list[tuple[bytes | None, ...]] = []
    for statement in statements:
        members = getattr(statement, "_statements_and_parameters", None)
        values = [tuple(m[2]) for m in members] if members is not None else [tuple(statement.values)]
        assert statement.is_idempotent
        # routed by its first row's partition, as the driver's own ``add`` would route it
        assert statement.routing_key == encoder.bind(tuple(_text(v) for v in values[0])).routing_key
        written += values
        assert len(values) <= BATCH_ROWS
        assert sum(_size(v) for v in values) <= BATCH_BYTES or len(values) == 1
    expected = [tuple(row) for part in partitions for row in part.rows]
    assert sorted(written, key=repr) == sorted(expected, key=repr)
    # a partition's rows keep their order across batches
    assert [row for row in written if row[0] == b"p250"] == [row for row in expected if row[0] == b"p250"]
    # the node takes them all: every row readable afterwards
    await cassandra._writer.rows.run_all(statements)
    result = await cassandra._execute(f"SELECT count(*) FROM {cassandra._url.keyspace}.account_tree")
    assert result.rows[0][0] == len(expected)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _size(values: tuple[bytes | None, ...]) -> int:
    return ROW_OVERHEAD + sum(len(v) for v in values if v is not None)
