"""Online posts as the origin's load client makes them, and where each post's CPU goes, in one run.

One local node. In order, each on fresh keyspaces and the same kind of two-leg sets:
- driver, row at a time: one INSERT per entry into the origin's table, 64 in flight (what the
  origin does per entry, from Python: the in-run proxy for the origin's rate);
- engine in-process: ``Engine.post_json`` of each set's JSON, 64 in flight;
- HTTP: ``ledger-tui serve`` (its own process) and a Go client (bench/postclient, like the
  origin's: keep-alive workers, one ``POST /transactions`` each) with 32, then 128 workers.
Each row has entries/s, the ratio to the proxy, latency (HTTP), and CPU seconds per 1,000 sets
of each process (node, server, client) read from /proc, so the run says where the time goes.
Usage: python bench/http_api.py --mode origin [--sets N] [--host H:P] [--claim-shards N]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.server.jsonio import dumps_exact

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")


def two_leg_bodies(count: int, seed: int, accounts: int = 1000) -> list[bytes]:
    """The origin's ``transaction.json``: a customer pays a merchant (both among ``accounts``)."""
    chooser = random.Random(seed)
    bodies = []
    for _ in range(count):
        amount = Decimal(chooser.randrange(1, 100_000)) / 100
        customer, merchant = chooser.randrange(accounts), chooser.randrange(accounts)
        legs = [
            _leg("com.fintech.customer", "current", f"c{customer:05d}", amount, "debit"),
            _leg("com.fintech.merchant", "settlement", f"m{merchant:05d}", amount, "credit"),
        ]
        bodies.append(dumps_exact({"transaction_id": str(uuid.uuid4()), "entries": legs}).encode())
    return bodies


def _leg(namespace: str, name: str, account: str, amount: Decimal, side: str) -> dict[str, Any]:
    address = {"legal_entity": "fintech_uk", "namespace": namespace, "name": name,
               "currency": "GBP", "account_id": account}  # fmt: skip
    return {"address": address, "amount": amount, "type": side, "description": "card payment"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def node_pid() -> int | None:
    """The local Cassandra node's pid (the java process running CassandraDaemon)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"CassandraDaemon" in (entry / "cmdline").read_bytes():
                    return int(entry.name)
            except OSError:
                continue
    return None


def settle(node: int, idle_cores: float = 0.1, longest: float = 90.0) -> float:
    """Wait until the node has gone quiet (a second below ``idle_cores`` of CPU: the flushes and
    compactions a phase leaves behind must not be charged to the next); the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < longest:
        before = cpu_seconds(node)
        time.sleep(1.0)
        if cpu_seconds(node) - before < idle_cores:
            break
    return time.monotonic() - started


@dataclass
class Row:
    """One measured path: sets, seconds, latencies and CPU per process."""

    label: str
    sets: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0


@contextmanager
def cpu_of(processes: dict[str, Callable[[], float]], into: dict[str, float]) -> Iterator[None]:
    """CPU seconds each named process used inside the block."""
    before = {name: read() for name, read in processes.items()}
    yield
    for name, read in processes.items():
        into[name] = read() - before[name]


def driver_rows(host: str, port: int, bodies: list[bytes], keyspace: str) -> float:
    """Seconds for one INSERT per entry (the origin's table and consistency), 64 in flight."""
    from cassandra import ConsistencyLevel
    from cassandra.cluster import Cluster
    from cassandra.concurrent import execute_concurrent_with_args

    cluster = Cluster([host], port=port, protocol_version=5)
    session = cluster.connect()
    session.execute(
        f"CREATE KEYSPACE {keyspace} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute(
        f"CREATE TABLE {keyspace}.origin_entries (legal_entity text, namespace text, name text, "
        "currency text, account_id text, bucket text, ts timestamp, id timeuuid, amount decimal, type text, "
        "description text, "
        "PRIMARY KEY ((legal_entity, namespace, name, currency, account_id, bucket), ts, id))"
    )
    insert = session.prepare(
        f"INSERT INTO {keyspace}.origin_entries (legal_entity, namespace, name, currency, account_id, "
        "bucket, ts, id, amount, type, description) "
        "VALUES (?, ?, ?, ?, ?, ?, toTimestamp(now()), now(), ?, ?, ?)"
    )
    insert.consistency_level = ConsistencyLevel.QUORUM
    started = time.perf_counter()
    rows = []
    for body in bodies:  # parsing is part of the origin's work per request too
        for leg in json.loads(body, parse_float=Decimal)["entries"]:
            a = leg["address"]
            rows.append((a["legal_entity"], a["namespace"], a["name"], a["currency"], a["account_id"],
                         "2026-12", leg["amount"], leg["type"], leg["description"]))  # fmt: skip
    execute_concurrent_with_args(session, insert, rows, concurrency=64, raise_on_first_error=True)
    seconds = time.perf_counter() - started
    session.execute(f"DROP KEYSPACE {keyspace}", timeout=120)
    cluster.shutdown()
    return seconds


async def engine_posts(url: str, bodies: list[bytes], in_flight: int = 64) -> float:
    """Seconds for ``Engine.post_json`` of every body, ``in_flight`` at a time (schema first)."""
    engine = build_engine(LedgerOptions(store=url))
    await engine.connect()
    await engine.apply_schema()
    queue = iter(bodies)

    async def poster() -> None:
        for body in queue:
            await engine.post_json(body)

    started = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(in_flight)))
    seconds = time.perf_counter() - started
    await engine.close()
    return seconds


def post_client() -> Path:
    """The Go load client, built once into .run/ (Go is on every machine of this kind)."""
    target = HERE.parent / ".run" / "postclient"
    source = HERE / "postclient" / "main.go"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        if shutil.which("go") is None:
            raise SystemExit("bench/postclient needs Go (go build); none is on PATH")
        target.parent.mkdir(exist_ok=True)
        subprocess.run(["go", "build", "-o", str(target), "."], cwd=HERE / "postclient", check=True)
    return target


def http_posts(client: Path, port: int, bodies: list[bytes], workers: int, directory: Path) -> dict[str, Any]:
    """The Go client's summary of posting every body with ``workers`` keep-alive workers, plus
    its own CPU seconds (from wait4)."""
    source = directory / f"bodies-{workers}.jsonl"
    source.write_bytes(b"\n".join(bodies) + b"\n")
    process = subprocess.Popen(
        [str(client), "-url", f"http://127.0.0.1:{port}/transactions", "-bodies", str(source),
         "-workers", str(workers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"postclient failed: {err.decode()}")
    if err:
        sys.stderr.write(err.decode())
    summary: dict[str, Any] = json.loads(out)
    return summary


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Starter = Callable[[str, int, Path], "subprocess.Popen[bytes]"]


def run(args: Any, start_server: Starter, free_port: Callable[[], int]) -> None:
    """The whole comparison, printed as one table."""
    host, _, port_text = args.host.partition(":")
    port = int(port_text or 9042)
    tag = uuid.uuid4().hex[:6]
    node = node_pid()
    if node is None:
        raise SystemExit("no local Cassandra node is running (make cassandra-up)")
    client = post_client()
    rows: list[Row] = []
    base = f"cassandra://{host}:{port}"
    layout = "" if args.claim_shards is None else f"?claim_shards={args.claim_shards}"
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z {platform.node()} cpus={os.cpu_count()}; {args.sets:,} two-leg "
        f"sets per path; claim shards {args.claim_shards or 'default'}; serve with its access log on"
    )

    bodies = two_leg_bodies(args.sets, seed=11)
    row = Row("driver: one INSERT per entry, 64 in flight (origin proxy)", len(bodies), 0.0)
    with cpu_of({"node": lambda: cpu_seconds(node), "bench": time.process_time}, row.cpu):
        row.seconds = driver_rows(host, port, bodies, f"bench_rows_{tag}")
    rows.append(row)

    settle(node)
    bodies = two_leg_bodies(args.sets, seed=12)
    row = Row("engine: Engine.post_json, 64 in flight, in-process", len(bodies), 0.0)
    with cpu_of({"node": lambda: cpu_seconds(node), "bench": time.process_time}, row.cpu):
        row.seconds = asyncio.run(engine_posts(f"{base}/bench_engine_{tag}{layout}", bodies))
    rows.append(row)

    served = f"{base}/bench_serve_{tag}{layout}"
    http_port = free_port()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        server = start_server(served, http_port, directory / "serve.log")
        try:
            for workers, seed in ((32, 13), (128, 14)):
                bodies = two_leg_bodies(args.sets, seed=seed)
                settle(node)
                row = Row(f"http: POST /transactions, Go client, {workers} workers", len(bodies), 0.0)
                readers = {"node": lambda: cpu_seconds(node), "server": lambda: cpu_seconds(server.pid),
                           "client": children_cpu}  # fmt: skip
                with cpu_of(readers, row.cpu):
                    summary = http_posts(client, http_port, bodies, workers, directory)
                row.seconds, row.p50_ms, row.p99_ms = summary["seconds"], summary["p50_ms"], summary["p99_ms"]
                row.errors = summary["errors"]
                rows.append(row)
        finally:
            server.terminate()
            server.wait(timeout=60)
    _drop(host, port, [f"bench_engine_{tag}", f"bench_serve_{tag}"])
    _print(rows)


def _drop(host: str, port: int, keyspaces: list[str]) -> None:
    from cassandra.cluster import Cluster

    cluster = Cluster([host], port=port, protocol_version=5)
    session = cluster.connect()
    for keyspace in keyspaces:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    cluster.shutdown()


def _print(rows: list[Row]) -> None:
    proxy = rows[0].sets * 2 / rows[0].seconds
    engine = rows[1].sets * 2 / rows[1].seconds
    print(f"{'path':<58}{'sets':>7}{'s':>7}{'entries/s':>10}{'/proxy':>7}{'/engine':>8}"
          f"{'p50 ms':>8}{'p99 ms':>8}{'err':>5}  CPU ms per set: node server client/bench")  # fmt: skip
    for row in rows:
        rate = row.sets * 2 / row.seconds
        latency = f"{row.p50_ms:>8.1f}{row.p99_ms:>8.1f}" if row.p50_ms is not None else f"{'':>16}"
        cpu = "  ".join(f"{name} {seconds * 1000 / row.sets:.2f}" for name, seconds in row.cpu.items())
        print(f"{row.label:<58}{row.sets:>7}{row.seconds:>7.1f}{rate:>10,.0f}{rate / proxy:>7.2f}"
              f"{rate / engine:>8.2f}{latency}{row.errors:>5}  {cpu}")  # fmt: skip
