"""A split hot account's rows land on every node of a ring, in roughly equal parts.

The 3-node ring this folder's tests share (127.0.0.11..13, tests/faults/conftest.py), in a keyspace
of its own at replication 1, so every row lives on exactly one node.
The hot account is split into SUBS month subs at once (what `layout split --now` does), then
SETS two-leg sets are posted through the engine, each with one leg on the hot account and one on
a customer account, all effective in one month. Then each node counts its OWN rows of the hot
account: for every token range it owns, a count of ledger_entries restricted to the account's
five key parts, with that node as the coordinator at consistency ONE (bench/partition_census.py,
``rows_per_node``). The counts must add up to SETS, and each node must hold 15% to 55% of them.

Which node a sub lands on is fixed by the token of its partition key (account, "2026-11~NNN"),
so the split of 24 subs over the three equal token ranges is the same on every run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from cassandra.cluster import Cluster
from cassandra.metadata import Murmur3Token
from cassandra.policies import ConstantReconnectionPolicy

from bench.hot_import import HOT, hot_sets
from bench.partition_census import rows_per_node
from ledger_tui.domain.address import parse_address
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, build_engine

from ..support.ring import OWN_NODES, Ring

pytestmark = [pytest.mark.cassandra, OWN_NODES]

NODES = 3
SUBS = 24
SETS = 3000
CUSTOMERS = 300
#: A fixed month, so the subs' tokens (and so their nodes) are the same on every run.
MONTH = "2026-11"
IN_FLIGHT = 32
KEYSPACE = "spread"
SHARE = (0.15, 0.55)
ACCOUNT_COLUMNS = ("legal_entity", "namespace", "name", "currency", "account_id")


async def post_all(engine: Engine, documents: list[str]) -> None:
    queue = iter(documents)

    async def poster() -> None:
        for document in queue:
            await engine.post_json(document)

    await asyncio.gather(*(poster() for _ in range(IN_FLIGHT)))


async def write_hot_sets(store: str) -> None:
    engine = build_engine(LedgerOptions(store=store))
    try:  # closed whatever fails: an open driver keeps reconnecting to a stopped ring
        await engine.connect()
        deadline = time.monotonic() + 60
        while engine.cluster_nodes() != (NODES, NODES) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert engine.cluster_nodes() == (NODES, NODES), engine.cluster_nodes()
        await engine.apply_schema()
        await engine.layouts().split(parse_address(HOT), SUBS, at_once=True)
        await post_all(engine, [s.line() for s in hot_sets(SETS, CUSTOMERS, MONTH, seed=41)])
    finally:
        await engine.close()


def count_on_ring(hosts: list[str]) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Each node's own count of the hot account's rows of ledger_entries; what the ring's token
    map says each should hold (every partition of the account, from account_buckets, counted
    whole at the node that owns its token); and each node's own count of all its rows."""
    cluster = Cluster(hosts, protocol_version=5, reconnection_policy=ConstantReconnectionPolicy(0.5))
    try:
        session = cluster.connect()
        deadline = time.monotonic() + 60
        while not all(host.is_up for host in cluster.metadata.all_hosts()) and time.monotonic() < deadline:
            time.sleep(0.2)
        key = HOT.split("/")
        where: dict[str, Any] = dict(zip(ACCOUNT_COLUMNS, key, strict=True))
        own = rows_per_node(cluster, session, KEYSPACE, "ledger_entries", where)
        everything = rows_per_node(cluster, session, KEYSPACE, "ledger_entries")
        assert sum(everything.values()) == 2 * SETS, everything  # the ranges cover the ring once
        account = " AND ".join(f"{column} = %s" for column in ACCOUNT_COLUMNS)
        parts = [
            row[0]
            for row in session.execute(
                f"SELECT time_bucket FROM {KEYSPACE}.account_buckets WHERE {account}", key
            )
        ]
        assert parts == [f"{MONTH}~{sub:03d}" for sub in range(SUBS)], parts
        placed = dict.fromkeys(own, 0)
        for part in parts:
            token, rows = session.execute(
                f"SELECT token({', '.join(ACCOUNT_COLUMNS)}, time_bucket), count(*) FROM {KEYSPACE}.ledger_entries "
                f"WHERE {account} AND time_bucket = %s",
                (*key, part),
            ).one()
            (owner,) = cluster.metadata.token_map.get_replicas(KEYSPACE, Murmur3Token(token))
            placed[owner.address] += rows
        return own, placed, everything
    finally:
        cluster.shutdown()


async def test_a_split_hot_account_spreads_its_rows_over_every_node(three_node_ring: Ring) -> None:
    ring = three_node_ring
    assert ring.nodes == NODES
    started = time.monotonic()
    await write_hot_sets(f"cassandra://{ring.hosts}/{KEYSPACE}?replication=1")
    posted = time.monotonic() - started
    own, placed, everything = await asyncio.to_thread(
        count_on_ring, [ring.address(n) for n in range(1, NODES + 1)]
    )
    shares = {node: round(rows / SETS, 3) for node, rows in sorted(own.items())}
    print(
        f"\nthe hot account's rows per node ({SUBS} subs, {SETS:,} entries): {own}, shares {shares}; "
        f"all rows of ledger_entries per node {everything}; {SETS:,} sets posted in {posted:.0f} s"
    )
    assert len(own) == NODES and sum(own.values()) == SETS, own
    assert own == placed  # each node counted exactly the partitions it owns
    low, high = SHARE
    assert all(low <= share <= high for share in shares.values()), shares
