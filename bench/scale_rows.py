"""Bytes per row of every Cassandra table, from schema.cql and the package's own column encoders.

Why: the scale model's partition sizes in bytes must come from what the write path really
stores, not from guesses: representative entry sets (the sample generator's, with addresses of
the scenario's shape) are materialised by ``materialise``, every value is encoded by
``encode.py``, and Cassandra's storage format adds the per-row and per-cell overhead below.
"""

from __future__ import annotations

import functools
import re
import statistics
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from types import SimpleNamespace

from ledger_tui.domain.blocks import DayTotals, SealPolicy, day_of, node_key
from ledger_tui.domain.materialise import materialise
from ledger_tui.domain.model import Address, Leg, RecordedTransaction
from ledger_tui.loader.generate import SampleGenerator
from ledger_tui.store.cassandra.encode import encoder_for

# Cassandra's storage format since 3.0 (UnfilteredSerializer and Cell.Serializer), uncompressed,
# which is what the "~100 MB per partition" guidance and compaction's large-partition warning
# measure. Per row: flags (1), row size and previous row size (vints, ~2 each), the liveness
# timestamp as a vint delta from the sstable's least timestamp (~5 for hours of writes).
ROW_HEADER = 10
#: Per regular cell: flags (1); a variable-length value adds its length as a vint (1 or 2).
CELL_HEADER = 1
#: Per row with clustering columns: the clustering block header (a vint per 32 columns).
CLUSTERING_HEADER = 1
#: Per partition: key length (2) and partition deletion time (12), beside the key's bytes.
PARTITION_HEADER = 14
#: Per map element (a cell of its own): flags, its own timestamp delta (~5), key length.
MAP_ELEMENT_HEADER = 7
FIXED = {"int": 4, "bigint": 8, "uuid": 16, "timestamp": 8, "boolean": 1}
#: Column types whose values carry their length.
_ENCODED = ("text", "decimal", "timestamp", "uuid", "int", "bigint")


@dataclass(frozen=True, slots=True)
class Table:
    """One table of schema.cql: its key columns and every column's type."""

    name: str
    partition: tuple[str, ...]
    clustering: tuple[str, ...]
    types: dict[str, str]


def schema_tables() -> dict[str, Table]:
    """Every CREATE TABLE of the shipped schema.cql."""
    text = resources.files("ledger_tui.store.cassandra").joinpath("schema.cql").read_text()
    text = re.sub(r"--[^\n]*", "", text)
    found: dict[str, Table] = {}
    for match in re.finditer(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\)\s*(?:WITH[^;]*)?;", text, re.S):
        name, body = match.group(1), match.group(2)
        types: dict[str, str] = {}
        partition: tuple[str, ...] = ()
        clustering: tuple[str, ...] = ()
        key = re.search(r"PRIMARY KEY \((.*)\)\s*$", body.strip(), re.S)
        for line in body.splitlines():
            words = line.strip().rstrip(",").split(maxsplit=1)
            if len(words) == 2 and words[0] != "PRIMARY" and words[0].isidentifier():
                cql_type, primary, _ = words[1].partition(" PRIMARY KEY")
                types[words[0]] = cql_type.replace(" ", "")
                if primary:
                    partition = (words[0],)
        if key:
            spec = key.group(1)
            if spec.startswith("("):
                inner, _, rest = spec[1:].partition(")")
                partition = tuple(part.strip() for part in inner.split(","))
            else:
                first, _, rest = spec.partition(",")
                partition = (first.strip(),)
            clustering = tuple(part.strip() for part in rest.split(",") if part.strip())
        found[name] = Table(name, partition, clustering, types)
    return found


def _vint(number: int) -> int:
    """Bytes of an unsigned vint (7 bits a byte, as Cassandra writes lengths)."""
    return max(1, (number.bit_length() + 6) // 7)


def value_bytes(cql_type: str, value: object) -> int:
    """Bytes of one value as the driver sends it and the node stores it."""
    if cql_type == "frozen<list<uuid>>":
        assert isinstance(value, list)
        return 4 + 20 * len(value)
    if cql_type == "boolean":
        return 1
    if cql_type not in _ENCODED:
        raise ValueError(f"no size for {cql_type}")
    return len(encoder_for(SimpleNamespace(typename=cql_type), 5)(value))


def _stored(cql_type: str, value: object) -> int:
    size = value_bytes(cql_type, value)
    return size if cql_type in FIXED else size + _vint(size)


def row_bytes(table: Table, values: Mapping[str, object]) -> int:
    """Stored bytes of one row (clustering and regular cells; the partition key is counted once
    per partition by ``key_bytes``). A map value is a mapping: one cell per element."""
    size = ROW_HEADER + (CLUSTERING_HEADER if table.clustering else 0)
    for column in table.clustering:
        size += _stored(table.types[column], values[column])
    for column, cql_type in table.types.items():
        if column in table.partition or column in table.clustering or column not in values:
            continue
        value = values[column]
        if cql_type.startswith("map<"):
            assert isinstance(value, Mapping)
            key_type, value_type = cql_type[4:-1].split(",")
            for key, item in value.items():
                size += (
                    MAP_ELEMENT_HEADER + value_bytes(key_type, key) + value_bytes(value_type.strip(), item)
                )
            continue
        size += CELL_HEADER + _stored(cql_type, value)
    return size


def key_bytes(table: Table, values: Mapping[str, object]) -> int:
    """Stored bytes of a partition's key and header (a composite key: 3 bytes a component)."""
    parts = [value_bytes(table.types[column], values[column]) for column in table.partition]
    composite = 3 * len(parts) if len(parts) > 1 else 0
    return PARTITION_HEADER + sum(parts) + composite


@dataclass(frozen=True, slots=True)
class Shape:
    """The address shape of a scenario's customer accounts (house accounts keep the sample's)."""

    legal_entity: str = "fintech_uk"
    namespace: str = "com.fintech.customer"
    name: str = "current"
    currency: str = "GBP"
    account_id: str = "cust-{:06d}"

    def customer(self, number: int) -> Address:
        """The address of customer ``number``."""
        return Address(
            self.legal_entity, self.namespace, self.name, self.currency, self.account_id.format(number)
        )


@dataclass(frozen=True, slots=True)
class RowSizes:
    """Mean stored bytes of a row of each table (``row``) and of a partition key (``key``)."""

    row: dict[str, float]
    key: dict[str, float]
    leg_json: float

    def claim_row(self, legs_per_set: float) -> float:
        """An entry_sets row for sets of ``legs_per_set`` legs (the legs' JSON scales with them)."""
        return self.row["entry_sets"] + self.leg_json * legs_per_set


SAMPLE_SETS = 2000
_AT = datetime(2026, 1, 20, 12, tzinfo=UTC)


def representative_sets(shape: Shape, count: int = SAMPLE_SETS) -> list[RecordedTransaction]:
    """The sample generator's first ``count`` sets with customers of ``shape``, recorded live."""
    generator = SampleGenerator(seed=7, until=_AT, months=1)
    numbers: dict[Address, int] = {}
    recorded: list[RecordedTransaction] = []
    for entry_set in generator.entry_sets(count):
        legs = []
        for leg in entry_set.legs:
            address = leg.address
            if address.account_id.startswith("cust-"):
                address = shape.customer(numbers.setdefault(address, 10**5 + len(numbers)))
            legs.append(Leg(address, leg.side, leg.amount, leg.description, leg.effective_at))
        when = max(leg.effective_at or _AT for leg in legs)
        recorded.append(
            RecordedTransaction(entry_set.transaction_id, tuple(legs), entry_set.payload_hash, when)
        )
    return recorded


@functools.lru_cache(maxsize=16)
def measure(shape: Shape) -> RowSizes:
    """Mean bytes per row and per key of every table, from materialised representative sets."""
    tables = schema_tables()
    sets = representative_sets(shape)
    rows = materialise(sets, SealPolicy())
    rows_of: dict[str, list[int]] = {}
    keys_of: dict[str, list[int]] = {}

    def add(table: str, values: Mapping[str, object]) -> None:
        rows_of.setdefault(table, []).append(row_bytes(tables[table], values))
        keys_of.setdefault(table, []).append(key_bytes(tables[table], values))

    totals: dict[tuple[str, int], DayTotals] = {}
    for entry in rows.entries:
        address = dict(
            zip(
                ("legal_entity", "namespace", "name", "currency", "account_id"),
                entry.address.as_tuple(),
                strict=True,
            )
        )
        add(
            "ledger_entries",
            {
                **address,
                "time_bucket": "2026-01",
                "effective_at": 0,
                "transaction_id": entry.transaction_id,
                "leg": entry.leg_index,
                "side": entry.side.value,
                "amount": entry.amount,
                "description": entry.description,
                "recorded_at": 0,
            },
        )
        totals.setdefault((node_key(entry.address.as_tuple()), day_of(entry.effective_at)), DayTotals()).add(
            entry.side, entry.amount
        )
    for owner, bucket in rows.buckets:
        add(
            "account_buckets",
            {
                **dict(
                    zip(
                        ("legal_entity", "namespace", "name", "currency", "account_id"),
                        owner.as_tuple(),
                        strict=True,
                    )
                ),
                "time_bucket": bucket,
            },
        )
    for parent, child in rows.tree:
        add("account_tree", {"parent": parent, "child": child})
    for node, day, account in rows.activity:
        add("day_activity", {"node": node, "day": day, "account_id": account})
        add("future_activity", {"node": node, "day": day, "account_id": account})
    for (node, day), block in totals.items():
        add(
            "balance_blocks",
            {
                "node": node,
                "day": day,
                "debits": block.debits,
                "credits": block.credits,
                "entry_count": block.entries,
                "cutoff": 0,
            },
        )
        add("seal_state", {"node": node, "sealed_through": day, "cutoff": 0})
        add("node_late_marks", {"node": node, "days": {day: 0}})
    leg_json: list[float] = []
    for transaction in sets:
        text = transaction.legs_json()
        add(
            "entry_sets",
            {
                "shard": 0,
                "transaction_id": transaction.transaction_id,
                "payload_hash": transaction.payload_hash,
                "legs": "",
                "leg_count": len(transaction.legs),
                "recorded_at": 0,
                "claimed_by": uuid.uuid4(),
            },
        )
        leg_json.append((len(text) - 2) / len(transaction.legs))
    add("claim_windows", {"part": 0, "window": 3_000_000})
    add(
        "claim_log",
        {"window": 3_000_000, "slot": 0, "batch_id": uuid.uuid4(), "transaction_ids": [], "done": True},
    )
    add("ledger_settings", {"name": "claim_shards", "value": "8"})
    row = {table: statistics.fmean(sizes) for table, sizes in rows_of.items()}
    key = {table: statistics.fmean(sizes) for table, sizes in keys_of.items()}
    # The legs text of a claim: its JSON (2 brackets, a comma between legs) with its length vint.
    return RowSizes(row, key, statistics.fmean(leg_json) + 1)


def list_bytes(ids: int) -> int:
    """Stored bytes of a claim_log row listing ``ids`` sets (ids cell and done cell)."""
    return (
        ROW_HEADER
        + CLUSTERING_HEADER
        + 16
        + CELL_HEADER
        + 4
        + 20 * ids
        + _vint(4 + 20 * ids)
        + CELL_HEADER
        + 1
    )
