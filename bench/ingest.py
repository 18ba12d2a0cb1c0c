"""Ingest from Kafka beside ``import`` of the same sets, in one run, on each store.

The same N two-leg sets (the origin's JSON, one per line) are imported from a file into one
fresh ledger and ingested from a topic (3 partitions, produced beforehand, not timed) into
another, both by the CLI as an operator runs them. Printed: each wall time and rate, and the
ratio ingest / import (the target is >= 0.8x), with the CPU seconds each command used (its
processes included: on a shared machine wall times move with the others' load, CPU times less).
The ingest runs with its default workers (one process per core, at most 4) and again in one
process (``--workers 1``, into a third ledger, from its own group) so that each run compares
them under the same load. The ingest's wall time includes joining the consumer group; its rate
from the first write to idle is printed beside it, and, on Cassandra, two ingesters sharing the
group's partitions.
Usage: python bench/ingest.py [--sets N] [--stores sqlite,cassandra] [--host 127.0.0.1:9042]
       [--kafka 127.0.0.1:9092]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from online_load import two_leg_bodies

PARTITIONS = 3


#: CPU seconds (user + system) of the last command run by ``_cli``, its processes included: on a
#: machine others share, wall times move with their load and CPU times much less.
LAST_CPU = [0.0]


def _cli(store: str, *args: str) -> tuple[float, str]:
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "ledger_tui", "--store", store, *args],
                          capture_output=True, text=True, check=False)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout + done.stderr


async def _produce(kafka: str, topic: str, bodies: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = [await producer.send(topic, body, partition=n % PARTITIONS) for n, body in enumerate(bodies)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def _stores(kind: str, host: str, tag: str, directory: Path) -> tuple[str, str, str, str]:
    def url(name: str) -> str:
        return (
            f"sqlite:{directory}/{name}.sqlite"
            if kind == "sqlite"
            else f"cassandra://{host}/bench_{name}_{tag}"
        )

    return url("import"), url("ingest"), url("pair"), url("one")


def _pair(store: str, url: str) -> float:
    """Seconds until two ingesters of one group, started together, have both caught up."""
    command = [sys.executable, "-m", "ledger_tui", "--store", store, "ingest", url, "--stop-when-idle"]
    started = time.perf_counter()
    both = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"
    ]
    for process in both:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"an ingester of the pair failed: {err[-2000:]}")
    return time.perf_counter() - started


def _drop(host: str, keyspaces: list[str]) -> None:
    from cassandra.cluster import Cluster

    address, _, port = host.rpartition(":")
    cluster = Cluster([address], port=int(port))
    try:
        session = cluster.connect()
        for keyspace in keyspaces:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    finally:
        cluster.shutdown()


def _warm_up(host: str, directory: Path) -> None:
    """A throwaway import, so the node's JIT is warm before the first timed phase (a cold node
    made the first phase, whichever it was, up to twice as slow)."""
    tag = uuid.uuid4().hex[:8]
    lines = directory / "warm.jsonl"
    lines.write_bytes(b"\n".join(two_leg_bodies(20_000, seed=5)) + b"\n")
    store = f"cassandra://{host}/bench_warm_{tag}"
    _cli(store, "schema", "apply")
    _cli(store, "import", str(lines))
    _drop(host, [f"bench_warm_{tag}"])


def run(kind: str, sets: int, host: str, kafka: str) -> None:
    tag = uuid.uuid4().hex[:8]
    bodies = two_leg_bodies(sets, seed=11)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        imported, ingested, paired, alone = _stores(kind, host, tag, directory)
        if kind == "cassandra":
            _warm_up(host, directory)
        lines = directory / "sets.jsonl"
        lines.write_bytes(b"\n".join(bodies) + b"\n")
        for store in (imported, ingested, paired, alone):
            _cli(store, "schema", "apply")
        topic = f"bench-ingest-{tag}"
        asyncio.run(_produce(kafka, topic, bodies))
        import_s, _ = _cli(imported, "import", str(lines))
        import_cpu = LAST_CPU[0]
        url = f"kafka://{kafka}/{topic}?group=bench&dead_letter={topic}-dead"
        ingest_s, said = _cli(ingested, "ingest", url, "--stop-when-idle")
        ingest_cpu = LAST_CPU[0]
        writing = re.search(r"writing ([0-9.]+) s", said)
        if f"sets {sets} " not in said:
            raise SystemExit(f"the ingest did not write every set: {said}")
        one_s, said_one = _cli(alone, "ingest", url.replace("group=bench", "group=one"), "--stop-when-idle",
                               "--workers", "1")  # fmt: skip
        one_cpu = LAST_CPU[0]
        writing_one = re.search(r"writing ([0-9.]+) s", said_one)
        pair_url = url.replace("group=bench", "group=pair")
        pair_s = _pair(paired, pair_url) if kind == "cassandra" else None
        if kind == "cassandra":
            _drop(host, [store.rsplit("/", 1)[1] for store in (imported, ingested, paired, alone)])
    print(f"{kind}: {sets:,} two-leg sets")
    print(f"  import (file, default workers)   {import_s:7.1f} s  {sets / import_s:9,.0f} sets/s"
          f"   cpu {import_cpu:.1f} s")  # fmt: skip
    print(f"  ingest (topic of {PARTITIONS} partitions)  {ingest_s:7.1f} s  {sets / ingest_s:9,.0f} sets/s"
          f"   ratio {import_s / ingest_s:.2f}x import (target >= 0.80x)"
          f"   cpu {ingest_cpu:.1f} s")  # fmt: skip
    if writing:
        steady = float(writing.group(1))
        print(f"  ingest, first write to idle     {steady:7.1f} s  {sets / steady:9,.0f} sets/s"
              f"   ratio {import_s / steady:.2f}x import")  # fmt: skip
    print(f"  ingest in one process (--workers 1) {one_s:5.1f} s  {sets / one_s:9,.0f} sets/s"
          f"   ratio {import_s / one_s:.2f}x import   cpu {one_cpu:.1f} s")  # fmt: skip
    if writing_one:
        steady = float(writing_one.group(1))
        print(f"    one process, first write to idle {steady:5.1f} s  {sets / steady:9,.0f} sets/s"
              f"   ratio {import_s / steady:.2f}x import")  # fmt: skip
    if pair_s is not None:
        print(f"  two ingesters in one group      {pair_s:7.1f} s  {sets / pair_s:9,.0f} sets/s"
              f"   ratio {import_s / pair_s:.2f}x import (as import's two workers)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=100_000)
    parser.add_argument("--stores", default="sqlite,cassandra")
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument("--kafka", default=os.environ.get("LEDGER_TEST_KAFKA", "127.0.0.1:9092"))
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores")
    for kind in args.stores.split(","):
        run(kind, args.sets, args.host, args.kafka)


if __name__ == "__main__":
    main()
