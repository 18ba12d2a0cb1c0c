"""Write benchmark: our import, online post and load-sample paths beside the driver's ceilings.

One run, one local node, the same generated entry sets (seed 7, 24 months) for every path:
- ceilings (the driver alone, no ledger rules): per-partition UNLOGGED batches of up to 25 rows,
  LWT ``INSERT ... IF NOT EXISTS`` alone (one per set), LOGGED batches of each set's rows alone,
  one INSERT per row with ``execute_concurrent``;
- ours: ``ledger-tui import`` of a JSON Lines file (parsing included, as a user runs it), the
  engine's bulk path on parsed sets, online ``Engine.post`` with 64 in flight, and
  ``ledger-tui load-sample``; each into its own keyspace, each followed by ``verify``. The import
  runs as a user runs it (default workers: one per core, at most 4) and once more with one process.
Prints entries/s and the ratios the write-path issue sets targets on.
Usage: python bench/load.py [--transactions N] [--host H:P] [--sample N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent, execute_concurrent_with_args
from cassandra.query import BatchStatement, BatchType

from ledger_tui.cli.import_commands import default_workers
from ledger_tui.domain.model import EntrySet, RecordedTransaction
from ledger_tui.domain.timeutil import bucket_of, to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.loader import generated_sets, load
from ledger_tui.store.cassandra import CassandraStore
from ledger_tui.store.url import parse_store_url

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
CLI = [sys.executable, "-m", "ledger_tui"]
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


def entry_rows(sets: list[EntrySet]) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    rows = []
    for entry_set in sets:
        recorded = RecordedTransaction(entry_set.transaction_id, entry_set.legs, entry_set.payload_hash, now)
        for e in recorded.entries():
            rows.append(
                (*e.address.as_tuple(), bucket_of(e.effective_at), to_epoch_ms(e.effective_at),
                 e.transaction_id, e.leg_index, e.side.value, e.amount, e.description,
                 to_epoch_ms(e.recorded_at))
            )  # fmt: skip
    return rows


def ceilings(host: str, port: int, sets: list[EntrySet]) -> dict[str, tuple[float, int]]:
    """Seconds and item count of each driver-only path, on a keyspace of their own."""
    keyspace = f"bench_ceiling_{uuid.uuid4().hex[:8]}"
    # TCP_NODELAY as our store sets it: the driver's best path on the same connection settings.
    cluster = Cluster([host], port=port, protocol_version=5, sockopts=NODELAY)
    session = cluster.connect()
    session.execute(
        f"CREATE KEYSPACE {keyspace} "
        "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    columns = (
        "legal_entity text, namespace text, name text, currency text, account_id text, time_bucket text, "
        "effective_at timestamp, transaction_id uuid, leg int, side text, amount decimal, description text, "
        "recorded_at timestamp"
    )
    key = "PRIMARY KEY ((legal_entity, namespace, name, currency, account_id, time_bucket), effective_at, "
    key += "transaction_id, leg)"
    for table in ("e_rows", "e_unlogged", "e_logged"):
        session.execute(f"CREATE TABLE {keyspace}.{table} ({columns}, {key})")
    session.execute(f"CREATE TABLE {keyspace}.claims (transaction_id uuid PRIMARY KEY, legs text)")
    rows = entry_rows(sets)
    marks = ", ".join("?" * 13)
    results: dict[str, tuple[float, int]] = {}

    def timed(label: str, statements: list[Any], count: int, concurrency: int = 64) -> None:
        started = time.perf_counter()
        pairs = [(statement, None) for statement in statements]
        done = [ok for ok, _ in execute_concurrent(session, pairs, concurrency=concurrency)]
        assert all(done), label
        results[label] = (time.perf_counter() - started, count)

    insert_rows = session.prepare(f"INSERT INTO {keyspace}.e_rows ({_names()}) VALUES ({marks})")
    started = time.perf_counter()
    outcome = execute_concurrent_with_args(
        session, insert_rows, rows, concurrency=256, raise_on_first_error=True
    )
    assert all(ok for ok, _ in outcome)
    results["rows"] = (time.perf_counter() - started, len(rows))

    insert_unlogged = session.prepare(f"INSERT INTO {keyspace}.e_unlogged ({_names()}) VALUES ({marks})")
    building = time.perf_counter()
    by_partition: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_partition[row[:6]].append(row)
    batches = []
    for members in by_partition.values():
        for i in range(0, len(members), 25):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for row in members[i : i + 25]:
                batch.add(insert_unlogged, row)
            batches.append(batch)
    results["binding"] = (time.perf_counter() - building, len(rows))
    timed("unlogged", batches, len(rows))

    insert_logged = session.prepare(f"INSERT INTO {keyspace}.e_logged ({_names()}) VALUES ({marks})")
    logged = []
    position = 0
    for entry_set in sets:
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        for row in rows[position : position + len(entry_set.legs)]:
            batch.add(insert_logged, row)
        position += len(entry_set.legs)
        logged.append(batch)
    timed("logged", logged, len(rows))

    claim = session.prepare(
        f"INSERT INTO {keyspace}.claims (transaction_id, legs) VALUES (?, ?) IF NOT EXISTS"
    )
    timed("lwt", [claim.bind((s.transaction_id, "x" * 300)) for s in sets], len(rows))
    session.execute(f"DROP KEYSPACE {keyspace}")
    cluster.shutdown()
    return results


#: Keyspaces of one run (dropped at its end, so later runs do not pay for their compactions).
LABELS = ("import", "import1", "sample", "bulk", "online")


def drop_keyspaces(host: str, port: int, keyspaces: list[str]) -> None:
    cluster = Cluster([host], port=port, protocol_version=5)
    session = cluster.connect()
    for keyspace in keyspaces:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    cluster.shutdown()


def _names() -> str:
    return (
        "legal_entity, namespace, name, currency, account_id, time_bucket, effective_at, "
        "transaction_id, leg, side, amount, description, recorded_at"
    )


def jsonl(sets: list[EntrySet], path: Path) -> None:
    with path.open("w") as out:
        for s in sets:
            legs = [
                {
                    "address": dict(
                        zip(
                            ["legal_entity", "namespace", "name", "currency", "account_id"],
                            leg.address.as_tuple(),
                            strict=True,
                        )
                    ),
                    "amount": str(leg.amount),
                    "type": leg.side.value,
                    "description": leg.description,
                    "timestamp": to_epoch_ms(leg.effective_at) if leg.effective_at else None,
                }
                for leg in s.legs
            ]
            out.write(json.dumps({"transaction_id": str(s.transaction_id), "entries": legs}) + "\n")


def cli(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ledger-tui {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return time.perf_counter() - started, done.stdout


async def post_all(engine: Engine, sets: list[EntrySet], in_flight: int) -> None:
    """Online posts: ``in_flight`` posters sharing one queue of sets."""
    queue = iter(sets)

    async def poster() -> None:
        for entry_set in queue:
            await engine.post(entry_set)

    await asyncio.gather(*(poster() for _ in range(in_flight)))


async def engine_paths(url_for: Any, sets: list[EntrySet]) -> dict[str, float]:
    """Seconds of the engine's bulk path and of online posts (64 in flight), each verified."""
    results: dict[str, float] = {}
    for label in ("bulk", "online"):
        store = CassandraStore(parse_store_url(url_for(label)))
        await store.connect()
        await store.apply_schema()
        engine = Engine(store)
        started = time.perf_counter()
        if label == "bulk":
            await load(engine, sets)
        else:
            await post_all(engine, sets, 64)
        results[label] = time.perf_counter() - started
        report = await engine.verify()
        assert report.ok and report.transactions == len(sets), report.problems
        await store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20000)
    parser.add_argument("--sample", type=int, default=20000, help="sets for the load-sample run")
    parser.add_argument("--host", default="127.0.0.1:9042")
    args = parser.parse_args()
    host, _, port = args.host.partition(":")
    sets = list(generated_sets(args.transactions, 24, UNTIL, seed=7))
    entries = sum(len(s.legs) for s in sets)
    suffix = uuid.uuid4().hex[:6]

    def url_for(label: str) -> str:
        return f"cassandra://{host}:{port or 9042}/bench_{label}_{suffix}"

    ceiling = ceilings(host, int(port or 9042), sets)
    workers = default_workers()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sets.jsonl"
        jsonl(sets, path)
        cli("--store", url_for("import"), "schema", "apply")
        import_seconds, _ = cli("--store", url_for("import"), "import", str(path))
        rerun_seconds, _ = cli("--store", url_for("import"), "import", str(path))
        verify_seconds, verify_out = cli("--store", url_for("import"), "verify")
        assert "verify: OK" in verify_out
        cli("--store", url_for("import1"), "schema", "apply")
        one_seconds, _ = cli("--store", url_for("import1"), "import", "--workers", "1", str(path))
        assert "verify: OK" in cli("--store", url_for("import1"), "verify")[1]
        cli("--store", url_for("sample"), "schema", "apply")
        sample_seconds, _ = cli(
            "--store",
            url_for("sample"),
            "load-sample",
            "--transactions",
            str(args.sample),
            "--until",
            "2026-11-01",
        )
        assert "verify: OK" in cli("--store", url_for("sample"), "verify")[1]
    engine_seconds = asyncio.run(engine_paths(url_for, sets))
    drop_keyspaces(host, int(port or 9042), [f"bench_{label}_{suffix}" for label in LABELS])

    def rate(seconds: float) -> float:
        return entries / seconds

    unlogged = rate(ceiling["unlogged"][0])
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    print(f"machine: {platform.node()} {platform.machine()} cores={os.cpu_count()}  {stamp}")
    print(f"data: {len(sets)} entry sets, {entries} entries (seed 7, 24 months); one local node")
    print(f"{'path':<62}{'seconds':>9}{'entries/s':>11}{'x unlogged':>11}")
    lines = [
        ("ceiling: UNLOGGED per-partition batches (<=25 rows), 64 in flight", ceiling["unlogged"][0]),
        (
            "  same, counting the driver's bind of the rows too",
            ceiling["unlogged"][0] + ceiling["binding"][0],
        ),
        ("ceiling: LOGGED batch per set alone, 64 in flight", ceiling["logged"][0]),
        ("ceiling: LWT claim per set alone, 64 in flight", ceiling["lwt"][0]),
        ("ceiling: one INSERT per row (execute_concurrent, 256)", ceiling["rows"][0]),
        (f"ours: ledger-tui import FILE (default: {workers} workers)", import_seconds),
        ("ours: import rerun (all duplicates)", rerun_seconds),
        ("ours: import --workers 1 (one process)", one_seconds),
        ("ours: engine bulk path (parsed sets)", engine_seconds["bulk"]),
        ("ours: online Engine.post, 64 in flight", engine_seconds["online"]),
    ]
    for label, seconds in lines:
        print(f"{label:<62}{seconds:>9.2f}{rate(seconds):>11,.0f}{rate(seconds) / unlogged:>11.2f}")
    print(f"ours: load-sample --transactions {args.sample} (process wall time): {sample_seconds:.2f} s")
    print(f"ours: verify after import (process wall time): {verify_seconds:.2f} s")
    print(
        f"targets: import >= 30,000 entries/s and >= 0.6x unlogged -> {rate(import_seconds):,.0f} and "
        f"{rate(import_seconds) / unlogged:.2f}x; online >= 5,000 entries/s -> "
        f"{rate(engine_seconds['online']):,.0f}; "
        f"load-sample {args.sample} <= 5 s -> {sample_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
