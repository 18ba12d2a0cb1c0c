"""Encoding rows for prepared statements column by column, byte for byte as the driver's bind.

Why: the driver's general ``bind`` was the largest client cost of an import, while our rows hold
a few column types of already validated values, so each column gets one small encoder chosen
once per statement; bulk writes also encode a partition's key once and make no statement object
per row (``batches.py`` builds batches from the values). Figures: docs/cassandra-write-path.md.
"""

from __future__ import annotations

import struct
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cassandra.query import BoundStatement, PreparedStatement

from ...domain.timeutil import to_epoch_ms

Encoder = Callable[[Any], bytes]

_INT32 = struct.Struct(">i").pack
_INT64 = struct.Struct(">q").pack
_UINT16 = struct.Struct(">H").pack
#: Bytes a row adds to a batch besides its values (statement id, value lengths): an estimate.
ROW_OVERHEAD = 24
#: Bytes a node adds per map entry beyond its encoded key and value (the entry's own cell:
#: timestamp and flags), so a batch of map entries is sized as the node counts it.
MAP_ENTRY_OVERHEAD = 12
#: Distinct text values kept encoded (address parts, buckets, node keys repeat across rows).
_TEXT_CACHE_LIMIT = 100_000


def micros(moment: datetime) -> int:
    """A write timestamp (microseconds) that orders derived rows by the time they describe."""
    return to_epoch_ms(moment) * 1000


def varint(number: int) -> bytes:
    """CQL varint: minimal big-endian two's complement."""
    return number.to_bytes((number if number >= 0 else ~number).bit_length() // 8 + 1, "big", signed=True)


def encode_decimal(value: Decimal) -> bytes:
    """CQL decimal: the scale as int32, then the unscaled value as a varint."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN and infinities have no CQL form
        raise ValueError(f"{value} is not a finite decimal")
    unscaled = int("".join(map(str, digits))) if digits else 0
    return _INT32(-exponent) + varint(-unscaled if sign else unscaled)


def encode_uuid(value: uuid.UUID) -> bytes:
    """CQL uuid: its 16 bytes."""
    return value.bytes


def encode_timestamp(value: int) -> bytes:
    """CQL timestamp from epoch milliseconds (the only form the write path binds)."""
    return _INT64(value)


class _TextCache(dict[str, bytes]):
    """UTF-8 bytes of text values, bounded (a lone surrogate raises UnicodeEncodeError, as in
    bind). A dict whose misses encode: a hit is one C-level lookup, no Python call per value."""

    def __missing__(self, value: str) -> bytes:
        found = value.encode("utf-8")
        if len(self) >= _TEXT_CACHE_LIMIT:
            self.clear()
        self[value] = found
        return found


def encoder_for(cql_type: Any, protocol_version: int) -> Encoder:
    """The fast encoder of a column type, or the driver's own serializer for any other type."""
    name = getattr(cql_type, "typename", "")
    if name in ("varchar", "text", "ascii"):
        return _TextCache().__getitem__
    if name == "timestamp":
        return encode_timestamp
    if name == "uuid":
        return encode_uuid
    if name == "int":
        return _INT32
    if name in ("bigint", "counter"):
        return _INT64
    if name == "decimal":
        return encode_decimal
    if _is_map(cql_type):  # late marks: day -> epoch ms
        encode_key, encode_value = (encoder_for(sub, protocol_version) for sub in cql_type.subtypes)
        return _map_encoder(encode_key, encode_value)

    def driver(value: Any) -> bytes:
        return bytes(cql_type.serialize(value, protocol_version))

    return driver


def _map_encoder(encode_key: Encoder, encode_value: Encoder) -> Encoder:
    """CQL map: the pair count, then each key and value with its length (all int32), in the
    mapping's own order as the driver writes it."""

    def encode(mapping: Any) -> bytes:
        parts = [_INT32(len(mapping))]
        for key, value in mapping.items():
            key_bytes, value_bytes = encode_key(key), encode_value(value)
            parts += (_INT32(len(key_bytes)), key_bytes, _INT32(len(value_bytes)), value_bytes)
        return b"".join(parts)

    return encode


@dataclass(slots=True)
class Partition:
    """Encoded rows of one partition of one statement: what a batch needs of each row (its
    values) and what routing needs (the partition's token key), with each row's batch size."""

    encoder: RowEncoder
    routing_key: bytes | None
    rows: list[list[bytes | None]]
    sizes: list[int]


class RowEncoder:
    """Rows of one prepared statement encoded by column; a contract test proves the bytes and
    routing keys equal ``bind``'s for every statement of the write path."""

    def __init__(self, prepared: PreparedStatement) -> None:
        self.prepared = prepared
        version = prepared.protocol_version
        self._encoders = [encoder_for(column.type, version) for column in prepared.column_metadata]
        self._width = len(self._encoders)
        indexes = list(prepared.routing_key_indexes or ())
        #: The partition key's columns when they lead the statement, in order (every INSERT of
        #: the write path): rows are then grouped by them and the key is encoded once per partition.
        self.key_width = len(indexes) if indexes and indexes == list(range(len(indexes))) else 0
        self._maps = [i for i, column in enumerate(prepared.column_metadata) if _is_map(column.type)]

    def bind(self, values: Sequence[Any]) -> BoundStatement:
        """A bound statement of ``values`` (one per column; None writes a null, as in bind)."""
        if len(values) != self._width:
            raise ValueError(f"expected {self._width} values, got {len(values)}")
        bound = BoundStatement(self.prepared)
        bound.raw_values = values  # what bind keeps too (the statement's repr shows it)
        bound.values = self._encoded(values)
        return bound

    def _encoded(self, values: Sequence[Any]) -> list[bytes | None]:
        pairs = zip(self._encoders, values, strict=True)
        return [None if value is None else encode(value) for encode, value in pairs]

    def partition(self, key: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Partition:
        """The rows of one partition: ``key`` holds its key columns' values, each row the values
        of the other columns (the key is encoded once; no statement object per row)."""
        width = self.key_width
        if not width or len(key) != width:
            raise ValueError(f"expected a partition key of {width} values, got {len(key)}")
        if any(value is None for value in key):
            raise ValueError("a partition key value is missing")
        parts = [encode(value) for encode, value in zip(self._encoders[:width], key, strict=True)]
        routing_key = parts[0] if width == 1 else b"".join(_composite(part) for part in parts)
        base = ROW_OVERHEAD + sum(map(len, parts))
        prefix: list[bytes | None] = list(parts)
        tail = self._encoders[width:]
        encoded: list[list[bytes | None]] = []
        sizes: list[int] = []
        for row in rows:
            if len(row) != len(tail):
                raise ValueError(f"expected {self._width} values, got {width + len(row)}")
            values = [None if v is None else encode(v) for encode, v in zip(tail, row, strict=True)]
            sizes.append(base + sum(map(len, filter(None, values))))
            encoded.append(prefix + values)
        return Partition(self, routing_key, encoded, sizes)

    def partitions(self, rows: Iterable[Sequence[Any]]) -> list[Partition]:
        """Whole rows (every column's value) grouped by partition and encoded."""
        width = self.key_width
        if not width:
            return self._keyed_inside(rows)
        groups: dict[tuple[Any, ...], list[Sequence[Any]]] = defaultdict(list)
        for row in rows:
            if len(row) != self._width:
                raise ValueError(f"expected {self._width} values, got {len(row)}")
            groups[tuple(row[:width])].append(row[width:])
        return [self.partition(key, members) for key, members in groups.items()]

    def _keyed_inside(self, rows: Iterable[Sequence[Any]]) -> list[Partition]:
        """Rows of a statement whose partition key does not lead (an UPDATE ... WHERE key = ?):
        grouped by partition, each row encoded whole (such statements write few rows)."""
        indexes = list(self.prepared.routing_key_indexes or ())
        if not indexes:
            raise ValueError("the statement has no partition key to route by")
        groups: dict[tuple[Any, ...], list[list[bytes | None]]] = defaultdict(list)
        raws: dict[tuple[Any, ...], list[Sequence[Any]]] = defaultdict(list)
        for row in rows:
            if len(row) != self._width:
                raise ValueError(f"expected {self._width} values, got {len(row)}")
            if any(row[i] is None for i in indexes):
                raise ValueError("a partition key value is missing")
            key = tuple(row[i] for i in indexes)
            groups[key].append(self._encoded(row))
            raws[key].append(row)
        partitions = []
        for key, members in groups.items():
            parts = [members[0][i] or b"" for i in indexes]
            routing_key = parts[0] if len(parts) == 1 else b"".join(_composite(part) for part in parts)
            sizes = [self._size(row, values) for row, values in zip(raws[key], members, strict=True)]
            partitions.append(Partition(self, routing_key, members, sizes))
        return partitions

    def _size(self, row: Sequence[Any], values: list[bytes | None]) -> int:
        """A row's batch size: its values, and for a map the cell the node makes of each entry."""
        entries = sum(len(row[i]) for i in self._maps if row[i] is not None)
        return ROW_OVERHEAD + sum(len(v) for v in values if v is not None) + MAP_ENTRY_OVERHEAD * entries


def _is_map(cql_type: Any) -> bool:
    return getattr(cql_type, "typename", "") == "map"


def _composite(part: bytes) -> bytes:
    """One component of a composite partition key as the driver routes it."""
    return _UINT16(len(part)) + part + b"\x00"
