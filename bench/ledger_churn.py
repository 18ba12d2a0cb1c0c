"""What a Cassandra test ledger costs the node: made new and dropped, against emptied and lent again.

Why: every Cassandra test runs on an empty ledger, and on the 2-core machine the suite runs on,
the node's CPU sets its pace. The tests lend an emptied keyspace (TRUNCATE of every table) to the
next test instead of creating one and dropping it (tests/support/stores.py); this prints the
node's CPU seconds per ledger both ways, in one run, and the ratio.

Each way, per ledger: the test's own store connects and applies the schema (``schema apply``),
then the ledger is dropped, or emptied. CPU is the node process's user + system time from /proc
(Linux; the node must run on this machine).
Usage: python bench/ledger_churn.py [--host H:P] [--ledgers N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cassandra.cluster import Cluster
from hot import listening_pid  # bench/ leads sys.path when this runs as a script
from online_load import cpu_seconds, settle

from ledger_tui.ledger import open_store
from ledger_tui.store.cassandra.marks import MARKS_SETTING, NODE_MAPS
from ledger_tui.store.url import parse_store_url


async def apply(url: str) -> None:
    store = open_store(parse_store_url(url))
    await store.connect()
    await store.apply_schema()
    await store.close()


def measure(pid: int, ledgers: int, one: Callable[[int], None]) -> tuple[float, float]:
    """Node CPU seconds and wall seconds per ledger of ``one``."""
    settle(pid)  # what an earlier way left behind (flushes, compactions) is not charged to this one
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    for n in range(ledgers):
        one(n)
    return (cpu_seconds(pid) - cpu) / ledgers, (time.perf_counter() - wall) / ledgers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument("--ledgers", type=int, default=10)
    args = parser.parse_args()
    host, port = args.host.rsplit(":", 1)
    pid = listening_pid(int(port))
    if pid is None:
        raise SystemExit(f"no Cassandra node listening on port {port} on this machine")
    cluster = Cluster([host], port=int(port), protocol_version=5, schema_metadata_enabled=False,
                      token_metadata_enabled=False)  # fmt: skip
    session = cluster.connect()
    url = f"cassandra://{host}:{port}/{{}}"

    def made_and_dropped(_n: int) -> None:
        keyspace = f"bench_{uuid.uuid4().hex[:12]}"
        asyncio.run(apply(url.format(keyspace)))
        session.execute(f"DROP KEYSPACE {keyspace}", timeout=120)

    lent = f"bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(apply(url.format(lent)))
    query = "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s"
    tables = sorted(row[0] for row in session.execute(query, (lent,)))

    def emptied_and_lent(_n: int) -> None:
        asyncio.run(apply(url.format(lent)))
        session.execute(query, (lent,))  # what giving back checks first
        for table in tables:
            session.execute(f"TRUNCATE {lent}.{table}", timeout=120)
        session.execute(
            f"INSERT INTO {lent}.ledger_settings (name, value) VALUES (%s, %s)", (MARKS_SETTING, NODE_MAPS)
        )

    new_cpu, new_wall = measure(pid, args.ledgers, made_and_dropped)
    lent_cpu, lent_wall = measure(pid, args.ledgers, emptied_and_lent)
    session.execute(f"DROP KEYSPACE {lent}", timeout=120)
    cluster.shutdown()
    print(f"{time.strftime('%Y-%m-%d %H:%MZ', time.gmtime())}  {platform.node()}  {os.cpu_count()} cores  "
          f"{args.ledgers} ledgers each way, {len(tables)} tables")  # fmt: skip
    print(f"{'way':<34}{'node CPU s':>12}{'wall s':>10}")
    print(f"{'made new, then dropped':<34}{new_cpu:>12.2f}{new_wall:>10.2f}")
    print(f"{'emptied and lent again':<34}{lent_cpu:>12.2f}{lent_wall:>10.2f}")
    print(f"node CPU per ledger, lent / new: {lent_cpu / new_cpu:.2f}x")


if __name__ == "__main__":
    main()
