"""One hot account beside spread accounts: online posts through the engine, in one run, on one node.

Each pass posts N two-leg sets with ``Engine.post_json`` in this process, 64 in flight, into a
fresh keyspace:
- spread: a customer (one of 2,000) pays a merchant (one of 1,000);
- hot: a customer (one of 2,000) pays ONE settlement account, so every set has a leg on it.
Passes alternate spread, hot, hot, spread, ... over ``--rounds`` rounds (drift cancels); the node
is let go quiet between passes. Printed: entries/s of each path (all its passes), the node's CPU
per set and the ratio hot/spread (target >= 0.8x). ``--split N`` first splits the hot account's
partitions into N subs a month (``layout split --now``: its entries spread over N partitions).
Usage: python bench/hot.py [--sets N] [--rounds R] [--host H:P] [--split N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from online_load import cpu_seconds, settle

from ledger_tui.domain.address import parse_address
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.server.jsonio import dumps_exact

IN_FLIGHT = 64
CUSTOMERS, MERCHANTS = 2000, 1000
CUSTOMER, MERCHANT = (
    "fintech_uk/com.fintech.customer/current/GBP",
    "fintech_uk/com.fintech.merchant/settlement/GBP",
)
HOT = f"{MERCHANT}/hot00001"
TARGET = 0.8


def _leg(address: str, amount: Decimal, side: str) -> dict[str, Any]:
    legal_entity, namespace, name, currency, account_id = address.split("/")
    where = {"legal_entity": legal_entity, "namespace": namespace, "name": name,
             "currency": currency, "account_id": account_id}  # fmt: skip
    return {"address": where, "amount": amount, "type": side, "description": "card payment"}


def bodies(kind: str, count: int, seed: int) -> list[bytes]:
    """``count`` sets' JSON: a customer pays a merchant (spread) or the one hot account (hot)."""
    chooser = random.Random(seed)
    out = []
    for _ in range(count):
        amount = Decimal(chooser.randrange(1, 100_000)) / 100
        customer = f"{CUSTOMER}/c{chooser.randrange(CUSTOMERS):05d}"
        payee = HOT if kind == "hot" else f"{MERCHANT}/m{chooser.randrange(MERCHANTS):05d}"
        legs = [_leg(customer, amount, "debit"), _leg(payee, amount, "credit")]
        out.append(dumps_exact({"transaction_id": str(uuid.uuid4()), "entries": legs}).encode())
    return out


@dataclass
class Pass:
    kind: str
    sets: int
    seconds: float
    node_cpu: float | None


async def post_all(url: str, documents: list[bytes], split: int) -> float:
    """Seconds for ``Engine.post_json`` of every document, IN_FLIGHT at a time (schema and any
    split of the hot account first, outside the timing)."""
    engine = build_engine(LedgerOptions(store=url))
    await engine.connect()
    await engine.apply_schema()
    if split > 0:
        await engine.layouts().split(parse_address(HOT), split, at_once=True)
    queue = iter(documents)

    async def poster() -> None:
        for document in queue:
            await engine.post_json(document)

    started = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(IN_FLIGHT)))
    seconds = time.perf_counter() - started
    await engine.close()
    return seconds


def listening_pid(port: int) -> int | None:
    """The pid of the local Cassandra node listening on ``port`` (None if not on this machine)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or b"CassandraDaemon" not in (entry / "cmdline").read_bytes():
                continue
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue
    return None


def node_release(host: str, port: int) -> str:
    """The node's Cassandra version (and a plain message when no node answers)."""
    from cassandra.cluster import Cluster, NoHostAvailable

    cluster = Cluster([host], port=port, protocol_version=5)
    try:
        return str(cluster.connect().execute("SELECT release_version FROM system.local").one()[0])
    except NoHostAvailable:
        raise SystemExit(
            f"no Cassandra node answers at {host}:{port} (make cassandra-up, or --host)"
        ) from None
    finally:
        cluster.shutdown()


def drop(host: str, port: int, keyspaces: list[str]) -> None:
    """Leave the node as it was."""
    from cassandra.cluster import Cluster

    cluster = Cluster([host], port=port, protocol_version=5)
    session = cluster.connect()
    for keyspace in keyspaces:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    cluster.shutdown()


def default_host() -> str:
    """The node ``make cassandra-up`` starts (the Makefile exports LEDGER_TEST_CASSANDRA)."""
    return (
        os.environ.get("LEDGER_TEST_CASSANDRA")
        or f"127.0.0.1:{os.environ.get('LEDGER_CASSANDRA_PORT', '9042')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=20000, help="two-leg sets per pass")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (spread+hot, then hot+spread, ...)")
    parser.add_argument("--host", default=default_host(), help="the node, H:P (default: %(default)s)")
    parser.add_argument("--split", type=int, default=0, help="split the hot account into N subs first")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    args = parser.parse_args()
    host, _, port_text = args.host.partition(":")
    port = int(port_text or 9042)
    tag = uuid.uuid4().hex[:6]
    node = listening_pid(port)
    release = node_release(host, port)
    passes: list[Pass] = []
    keyspaces: list[str] = []
    try:
        for round_ in range(args.rounds):
            for kind in ("spread", "hot") if round_ % 2 == 0 else ("hot", "spread"):
                documents = bodies(kind, args.sets, seed=len(passes) + 1)
                keyspaces.append(f"bench_hot_{kind}_{tag}_{len(passes)}")
                if node is not None:
                    settle(node)
                before = cpu_seconds(node) if node is not None else 0.0
                split = args.split if kind == "hot" else 0
                seconds = asyncio.run(
                    post_all(f"cassandra://{host}:{port}/{keyspaces[-1]}", documents, split)
                )
                cpu = cpu_seconds(node) - before if node is not None else None
                passes.append(Pass(kind, args.sets, seconds, cpu))
                if not args.json:
                    print(
                        f"  round {round_ + 1} {kind:<6} {2 * args.sets / seconds:>9,.0f} entries/s",
                        flush=True,
                    )
    finally:
        drop(host, port, keyspaces)
    report(args, passes, release)


def report(args: argparse.Namespace, passes: list[Pass], release: str) -> None:
    paths: dict[str, dict[str, Any]] = {}
    for kind in ("spread", "hot"):
        mine = [p for p in passes if p.kind == kind]
        sets, seconds = sum(p.sets for p in mine), sum(p.seconds for p in mine)
        cpus = [p.node_cpu for p in mine if p.node_cpu is not None]
        paths[kind] = {
            "passes": len(mine), "sets": sets, "entries": 2 * sets, "seconds": round(seconds, 3),
            "entries_per_s": round(2 * sets / seconds, 1),
            "node_cpu_ms_per_set": round(sum(cpus) * 1000 / sets, 3) if len(cpus) == len(mine) else None,
            "pass_entries_per_s": [round(2 * p.sets / p.seconds, 1) for p in mine],
        }  # fmt: skip
    ratio = paths["hot"]["entries_per_s"] / paths["spread"]["entries_per_s"]
    result = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z", "machine": platform.node(),
        "platform": platform.platform(), "cores": os.cpu_count(), "cassandra": release, "host": args.host,
        "sets_per_pass": args.sets, "rounds": args.rounds, "in_flight": IN_FLIGHT, "split": args.split,
        "paths": paths, "ratio_hot_spread": round(ratio, 3), "target": TARGET, "met": ratio >= TARGET,
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['date']} {platform.node()} {result['platform']} cores={result['cores']}; "
          f"Cassandra {release} at {args.host}; {args.sets:,} two-leg sets per pass, {args.rounds} round(s), "
          f"Engine.post_json {IN_FLIGHT} in flight in-process; split {args.split or 'none'}")  # fmt: skip
    print(f"{'path':<62}{'passes':>7}{'s':>8}{'entries/s':>11}{'node CPU ms/set':>17}")
    labels = {"spread": f"spread: {CUSTOMERS:,} customers pay {MERCHANTS:,} merchants",
              "hot": f"hot: {CUSTOMERS:,} customers pay one account ({HOT.rsplit('/', 1)[1]})"}  # fmt: skip
    for kind, row in paths.items():
        cpu = "" if row["node_cpu_ms_per_set"] is None else f"{row['node_cpu_ms_per_set']:.2f}"
        print(
            f"{labels[kind]:<62}{row['passes']:>7}{row['seconds']:>8.1f}{row['entries_per_s']:>11,.0f}{cpu:>17}"
        )
    verdict = "met" if result["met"] else "NOT met"
    print(f"ratio hot / spread (entries/s): {ratio:.2f}  (target >= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
