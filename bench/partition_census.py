"""Every partition of every table of a ledger's keyspace, counted on the node: rows per partition.

Why: docs/scale.md sizes partitions by model; this counts what a real node holds, so a bench
(bench/hot_import.py) and a test (tests/store/test_partition_bound.py) can hold every table to a
bound, and a ring test (tests/faults/test_hot_spread.py) can ask each node for its own rows.

- ``census``: for each table, ``SELECT <partition key>, count(*) ... GROUP BY <partition key>``,
  paged. A table without clustering columns has one row a partition, and Cassandra 5.0.8 refuses
  the second page of a GROUP BY over such a table ("Invalid value for the paging state"), so its
  partitions are listed instead (each counts 1 row).
- ``rows_per_node``: on a ring with replication 1, each node counts its own rows of one table:
  for every token range it owns, ``count(*)`` with that node as the coordinator at consistency
  ONE (the node is the range's only replica, so it reads its local data only).

A bench and test tool, not the product: plain statements on the driver's own session.
Usage: python bench/partition_census.py --keyspace KS [--host H:P] [--bound N] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Cassandra's guidance: a partition under ~100,000 rows.
DEFAULT_BOUND = 100_000
#: Rows (groups) per page of a census, and seconds a page may take.
FETCH_SIZE = 1000
TIMEOUT_S = 300.0
MIN_TOKEN = -(2**63)
MAX_TOKEN = 2**63 - 1


@dataclass(frozen=True, slots=True)
class TableKeys:
    """A table's partition key columns (in order) and whether it has clustering columns."""

    partition: tuple[str, ...]
    clustered: bool


def table_keys(session: Any, keyspace: str) -> dict[str, TableKeys]:
    """Every table of ``keyspace`` with its partition key, read from ``system_schema.columns``."""
    rows = session.execute(
        "SELECT table_name, column_name, kind, position FROM system_schema.columns WHERE keyspace_name = %s",
        (keyspace,),
        timeout=TIMEOUT_S,
    )
    partition: dict[str, list[tuple[int, str]]] = {}
    clustered: set[str] = set()
    for row in rows:
        if row.kind == "partition_key":
            partition.setdefault(row.table_name, []).append((row.position, row.column_name))
        elif row.kind == "clustering":
            clustered.add(row.table_name)
    return {
        table: TableKeys(tuple(f'"{name}"' for _, name in sorted(columns)), table in clustered)
        for table, columns in sorted(partition.items())
    }


def partition_rows(session: Any, keyspace: str, table: str, keys: TableKeys) -> list[int]:
    """The row count of every partition of one table (in no particular order)."""
    from cassandra.query import SimpleStatement

    columns = ", ".join(keys.partition)
    if not keys.clustered:  # one row a partition (see the module docstring)
        statement = SimpleStatement(f'SELECT {columns} FROM {keyspace}."{table}"', fetch_size=FETCH_SIZE)
        return [1 for _ in session.execute(statement, timeout=TIMEOUT_S)]
    statement = SimpleStatement(
        f'SELECT {columns}, count(*) FROM {keyspace}."{table}" GROUP BY {columns}', fetch_size=FETCH_SIZE
    )
    return [int(row[-1]) for row in session.execute(statement, timeout=TIMEOUT_S)]


def census(session: Any, keyspace: str) -> dict[str, list[int]]:
    """For every table of ``keyspace``, the row count of each of its partitions."""
    return {
        table: partition_rows(session, keyspace, table, keys)
        for table, keys in table_keys(session, keyspace).items()
    }


def percentile(counts: list[int], share: float) -> int:
    """The nearest-rank percentile (``share`` in 0..1) of ``counts`` (0 for none)."""
    if not counts:
        return 0
    ordered = sorted(counts)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def token_ranges(cluster: Any) -> list[tuple[Any, int, int, bool]]:
    """Every token range of the ring as (its owner's token, low, high, low inclusive): a token t
    owns (previous token, t]; the range that wraps is cut in two at the ends of the token space."""
    ring = list(cluster.metadata.token_map.ring)
    ranges: list[tuple[Any, int, int, bool]] = []
    for index, token in enumerate(ring):
        low, high = int(ring[index - 1].value), int(token.value)
        if index > 0 and low < high:
            ranges.append((token, low, high, False))
        else:  # the wrap: (last token, MAX] and [MIN, first token]
            if low < MAX_TOKEN:
                ranges.append((token, low, MAX_TOKEN, False))
            # No key hashes to MIN, and Cassandra reads MIN as a range's end as "to the end of the
            # ring": [MIN, MIN] would count every row again.
            if high > MIN_TOKEN:
                ranges.append((token, MIN_TOKEN, high, True))
    return ranges


def rows_per_node(
    cluster: Any, session: Any, keyspace: str, table: str, where: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """Each node's count of its own rows of ``table`` (replication 1 only), by address.

    ``where``: equalities on partition key columns (e.g. an account's five parts) that restrict
    the count, applied by each node to its own rows (ALLOW FILTERING)."""
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    keys = table_keys(session, keyspace)[table]
    token = f"token({', '.join(keys.partition)})"
    extra = "".join(f' AND "{column}" = %s' for column in where or {})
    values = tuple((where or {}).values())
    suffix = " ALLOW FILTERING" if where else ""
    counts: dict[str, int] = {host.address: 0 for host in cluster.metadata.all_hosts()}
    token_map = cluster.metadata.token_map
    for end, low, high, inclusive in token_ranges(cluster):
        replicas = token_map.get_replicas(keyspace, end)
        if len(replicas) != 1:
            raise ValueError(f"{keyspace} has {len(replicas)} replicas of token {end}: rows_per_node needs 1")
        (owner,) = replicas
        statement = SimpleStatement(
            f'SELECT count(*) FROM {keyspace}."{table}" WHERE {token} {">=" if inclusive else ">"} %s '
            f"AND {token} <= %s{extra}{suffix}",
            consistency_level=ConsistencyLevel.ONE,
        )
        found = session.execute(statement, (low, high, *values), host=owner, timeout=TIMEOUT_S).one()
        counts[owner.address] = counts.get(owner.address, 0) + int(found[0])
    return counts


@dataclass(frozen=True, slots=True)
class TableFigures:
    """One table's partitions against a bound."""

    table: str
    partitions: int
    rows: int
    largest: int
    p99: int
    bound: int

    @property
    def ok(self) -> bool:
        return self.largest <= self.bound


def figures(counted: Mapping[str, list[int]], bound: int) -> list[TableFigures]:
    """Per table: partitions, rows, largest and 99th-percentile partition, beside ``bound``."""
    return [
        TableFigures(table, len(counts), sum(counts), max(counts, default=0), percentile(counts, 0.99), bound)
        for table, counts in counted.items()
    ]


def print_figures(rows: list[TableFigures]) -> None:
    """A table of figures, one line a table."""
    print(f"{'table':<20}{'partitions':>11}{'rows':>11}{'largest':>10}{'p99':>9}{'bound':>9}{'ratio':>8}")
    for row in rows:
        verdict = "OK" if row.ok else "OVER"
        print(
            f"{row.table:<20}{row.partitions:>11,}{row.rows:>11,}{row.largest:>10,}{row.p99:>9,}"
            f"{row.bound:>9,}{row.largest / row.bound:>7.2f}x  {verdict}"
        )


def connect(host: str, port: int) -> tuple[Any, Any]:
    """A driver cluster and session on the node at host:port."""
    from cassandra.cluster import Cluster

    cluster = Cluster([host], port=port, protocol_version=5)
    return cluster, cluster.connect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_host = os.environ.get("LEDGER_TEST_CASSANDRA", "127.0.0.1:9042")
    parser.add_argument("--host", default=default_host, help="a node, H:P (default: %(default)s)")
    parser.add_argument("--keyspace", required=True, help="the ledger's keyspace")
    parser.add_argument("--bound", type=int, default=DEFAULT_BOUND, help="rows a partition may hold")
    parser.add_argument("--json", action="store_true", help="one JSON document instead")
    args = parser.parse_args(argv)
    host, _, port = args.host.rpartition(":")
    cluster, session = connect(host or "127.0.0.1", int(port))
    try:
        rows = figures(census(session, args.keyspace), args.bound)
    finally:
        cluster.shutdown()
    if args.json:
        print(json.dumps(_as_json(rows), indent=1))
    else:
        print_figures(rows)
    return 0 if all(row.ok for row in rows) else 1


def _as_json(rows: list[TableFigures]) -> list[dict[str, Any]]:
    return [{**dataclasses.asdict(row), "ok": row.ok} for row in rows]


if __name__ == "__main__":
    raise SystemExit(main())
