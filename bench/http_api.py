"""HTTP benchmark: ``ledger-tui serve`` beside the engine it fronts, in one run, on the local node.

- online: the engine's own ``post_json`` with 32 in flight (in this process), then the same
  JSON documents through ``POST /transactions`` from 32 concurrent keep-alive clients (a real ``serve``
  process, access log on): entries/s and the ratio (target >= 0.8x);
- bulk: ``POST /transactions/bulk`` (JSON Lines, a few requests in flight): entries/s (target
  >= 4,800, the origin's rate without our guarantees);
- ``GET /balance`` of a named balance, one client: p50/p95 ms, beside ``Engine.balance`` in-process.
The client is a minimal asyncio HTTP/1.1 client so it takes as little of the two cores as it can.
``--mode origin``: the origin's own load instead (bench/online_load.py).
Usage: python bench/http_api.py [--transactions N] [--bulk N] [--host H:P] [--mode origin --sets N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import online_load

from ledger_tui.domain.model import EntrySet
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.loader import generated_sets
from ledger_tui.server.jsonio import dumps_exact

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
CLIENTS = 32
BALANCE_NAME = "customer-facing-balance"


def body_of(entry_set: EntrySet) -> bytes:
    """The origin's JSON of a set, with its id (so both paths write the same sets)."""
    legs = []
    for leg in entry_set.legs:
        data = {**leg.canonical(), "amount": leg.amount}
        if data["timestamp"] is None:
            del data["timestamp"]
        legs.append(data)
    return dumps_exact({"transaction_id": str(entry_set.transaction_id), "entries": legs}).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection: send a request, read the status and the body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @staticmethod
    async def open(host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return Connection(reader, writer, host)

    async def request(
        self, method: str, path: str, body: bytes = b"", kind: str = "application/json"
    ) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += f"Content-Type: {kind}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def engine_online(url: str, bodies: list[bytes]) -> float:
    """Seconds for the engine's own post of every body (``post_json``: the same parsing and
    validation the server does, minus HTTP), CLIENTS in flight."""
    return await online_load.engine_posts(url, bodies, CLIENTS)


async def http_posts(port: int, bodies: list[bytes]) -> float:
    """Seconds for POST /transactions of every body from CLIENTS keep-alive clients."""
    queue = iter(bodies)
    connections = [await Connection.open("127.0.0.1", port) for _ in range(CLIENTS)]

    async def client(connection: Connection) -> None:
        for body in queue:
            status, answer = await connection.request("POST", "/transactions", body)
            assert status == 201, (status, answer[:300])

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    seconds = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return seconds


async def http_bulk(port: int, bodies: list[bytes], per_request: int, in_flight: int) -> float:
    """Seconds for POST /transactions/bulk of every body, ``per_request`` lines per request."""
    requests = iter([b"\n".join(bodies[i : i + per_request]) for i in range(0, len(bodies), per_request)])
    connections = [await Connection.open("127.0.0.1", port) for _ in range(in_flight)]

    async def client(connection: Connection) -> None:
        for body in requests:
            status, answer = await connection.request(
                "POST", "/transactions/bulk", body, "application/x-ndjson"
            )
            assert status == 200, (status, answer[:300])

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    seconds = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return seconds


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18]


async def balance_latency(
    port: int, url: str, rounds: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """p50/p95 ms of GET /balance over HTTP and of Engine.balance in-process (same name, range)."""
    query = f"/balance?name={BALANCE_NAME}&start=2025-01-01T00:00:00Z&end=2026-07-01T00:00:00Z"
    connection = await Connection.open("127.0.0.1", port)
    http_ms = []
    for _ in range(rounds):
        started = time.perf_counter()
        status, answer = await connection.request("GET", query)
        http_ms.append((time.perf_counter() - started) * 1000)
        assert status == 200, answer
    connection.close()
    engine: Engine = build_engine(LedgerOptions(store=url))
    await engine.connect()
    span = TimeRange(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    engine_ms = []
    for _ in range(rounds):
        started = time.perf_counter()
        await engine.balance(BALANCE_NAME, span)
        engine_ms.append((time.perf_counter() - started) * 1000)
    await engine.close()
    return percentiles(http_ms), percentiles(engine_ms)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "ledger_tui",
        "--store",
        url,
        "serve",
        "--port",
        str(port),
        "--apply-schema",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("serve did not come up:\n" + log.read_text())


def drop_keyspaces(host: str, port: int, names: list[str]) -> None:
    """Leave the shared node as it was."""
    from cassandra.cluster import Cluster

    cluster = Cluster([host], port=port)
    session = cluster.connect()
    for name in names:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)
    cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=4000, help="sets for the online comparison")
    parser.add_argument("--bulk", type=int, default=20000, help="sets for the bulk endpoint")
    parser.add_argument("--per-request", type=int, default=5000, help="sets per bulk request")
    parser.add_argument("--rounds", type=int, default=200, help="GET /balance requests")
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument(
        "--mode",
        choices=("api", "origin"),
        default="api",
        help="origin: the origin's load (two-leg sets, a Go client) beside the engine, the driver",
    )
    parser.add_argument("--sets", type=int, default=30000, help="two-leg sets per path (--mode origin)")
    parser.add_argument("--claim-shards", type=int, help="claim shards of the ledgers (--mode origin)")
    args = parser.parse_args()
    if args.mode == "origin":
        online_load.run(args, start_server, free_port)
        return
    host, _, port_text = args.host.partition(":")
    suffix = uuid.uuid4().hex[:6]
    base = f"cassandra://{host}:{port_text or 9042}"
    online_sets = list(generated_sets(args.transactions, 24, UNTIL, seed=7))
    bulk_sets = list(generated_sets(args.bulk, 24, UNTIL, seed=8))[1:]  # the sample is in the online sets
    online_entries = sum(len(s.legs) for s in online_sets)
    bulk_entries = sum(len(s.legs) for s in bulk_sets)

    online_bodies = [body_of(s) for s in online_sets]
    engine_seconds = asyncio.run(engine_online(f"{base}/bench_http_engine_{suffix}", online_bodies))
    served_url = f"{base}/bench_http_serve_{suffix}"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(served_url, port, Path(tmp) / "serve.log")
        try:
            post_seconds = asyncio.run(http_posts(port, online_bodies))
            bulk_seconds = asyncio.run(http_bulk(port, [body_of(s) for s in bulk_sets], args.per_request, 2))
            (http_p50, http_p95), (engine_p50, engine_p95) = asyncio.run(
                balance_latency(port, served_url, args.rounds)
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
            drop_keyspaces(
                host, int(port_text or 9042), [f"bench_http_engine_{suffix}", f"bench_http_serve_{suffix}"]
            )

    engine_rate, post_rate = online_entries / engine_seconds, online_entries / post_seconds
    bulk_rate = bulk_entries / bulk_seconds
    print(
        f"machine: {platform.node()} {platform.machine()} cores={os.cpu_count()}  "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    )
    print(f"online: {len(online_sets)} sets, {online_entries} entries; bulk: {len(bulk_sets)} sets, "
          f"{bulk_entries} entries (seed 7 / 8, 24 months); one local node")  # fmt: skip
    print(f"{'path':<58}{'seconds':>9}{'entries/s':>11}")
    for label, seconds, entries in (
        (f"engine: Engine.post_json, {CLIENTS} in flight (in-process)", engine_seconds, online_entries),
        (f"http: POST /transactions, {CLIENTS} keep-alive clients", post_seconds, online_entries),
        (
            f"http: POST /transactions/bulk, {args.per_request} sets/request, 2 in flight",
            bulk_seconds,
            bulk_entries,
        ),
    ):
        print(f"{label:<58}{seconds:>9.2f}{entries / seconds:>11,.0f}")
    print(f"ratio http POST / engine post (entries/s): {post_rate / engine_rate:.2f}  (target >= 0.8)")
    print(f"bulk endpoint: {bulk_rate:,.0f} entries/s  (target >= 4,800)")
    print(f"GET /balance ({BALANCE_NAME}, 18 months, unsealed): p50 {http_p50:.1f} ms  "
          f"p95 {http_p95:.1f} ms; "
          f"Engine.balance in-process: p50 {engine_p50:.1f} ms  p95 {engine_p95:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
