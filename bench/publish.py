"""Publish to Kafka beside the online post rate, and post-to-published latency, in one run per store.

N two-leg sets are posted online (the engine in-process, 64 in flight: the online post rate, which
also fills the ledger); then `ledger-tui publish kafka://...` relays all of them to a fresh topic
(3 partitions) until idle: events/s and the ratio to the online rate (target >= 1x). Then a publisher
follows the ledger from now while M sets are posted at a steady pace and a consumer reads the topic:
latency from a post's answer to the event's arrival, p50/p99 (target p50 <= 250 ms).
Usage: python bench/publish.py [--sets N] [--paced M] [--stores sqlite,cassandra]
       [--host 127.0.0.1:9042] [--kafka 127.0.0.1:9092]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import _cli, _drop, _warm_up
from online_load import engine_posts, two_leg_bodies

from ledger_tui.ledger import LedgerOptions, open_ledger

PARTITIONS = 3


async def _topic(kafka: str, name: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    finally:
        await admin.close()


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _latency(store: str, kafka: str, topic: str, paced: int, rate: float) -> list[float]:
    """Seconds from each post's answer to its event's arrival, with a publisher following."""
    from aiokafka import AIOKafkaConsumer

    command = [sys.executable, "-m", "ledger_tui", "--store", store, "publish", f"kafka://{kafka}/{topic}",
               "--name", "follow", "--since", "now"]  # fmt: skip
    relay = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest")
    await consumer.start()
    answered: dict[str, float] = {}
    arrived: dict[str, float] = {}

    async def consume() -> None:
        while len(arrived) < paced:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                now = time.perf_counter()
                for message in messages:
                    arrived.setdefault(json.loads(message.value)["transaction_id"], now)

    reading = asyncio.ensure_future(consume())
    await asyncio.sleep(3)  # the relay is up and following
    async with open_ledger(LedgerOptions(store=store)) as engine:
        bodies = two_leg_bodies(paced, seed=17)
        started = time.perf_counter()
        for n, body in enumerate(bodies):
            data = json.loads(body)
            txid = data.setdefault("transaction_id", str(uuid.uuid4()))
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await engine.post_json(json.dumps(data))
            answered[txid] = time.perf_counter()
    await asyncio.wait_for(reading, 120)
    await consumer.stop()
    relay.send_signal(signal.SIGTERM)
    relay.communicate(timeout=60)
    return [arrived[txid] - at for txid, at in answered.items()]


def run(kind: str, sets: int, paced: int, host: str, kafka: str) -> None:
    tag = uuid.uuid4().hex[:8]
    bodies = two_leg_bodies(sets, seed=13)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        store = (
            f"sqlite:{directory}/published.sqlite"
            if kind == "sqlite"
            else f"cassandra://{host}/bench_pub_{tag}"
        )
        if kind == "cassandra":
            _warm_up(host, directory)
        online_s = asyncio.run(engine_posts(store, bodies))
        topic = f"bench-publish-{tag}"
        asyncio.run(_topic(kafka, topic))
        publish_s, said = _cli(
            store, "publish", f"kafka://{kafka}/{topic}", "--name", "bench", "--stop-when-idle"
        )
        if f"events {sets} " not in said:
            raise SystemExit(f"the publisher did not send every set: {said}")
        asyncio.run(_topic(kafka, topic + "-follow"))
        latencies = asyncio.run(_latency(store, kafka, topic + "-follow", paced, rate=200.0))
        if kind == "cassandra":
            _drop(host, [store.rsplit("/", 1)[1]])
    online, published = sets / online_s, sets / publish_s
    print(f"{kind}: {sets:,} two-leg sets")
    print(f"  online posts (engine, 64 in flight)  {online_s:7.1f} s  {online:9,.0f} sets/s")
    print(f"  publish to Kafka (until idle)        {publish_s:7.1f} s  {published:9,.0f} events/s"
          f"   ratio {published / online:.2f}x online (target >= 1x)")  # fmt: skip
    print(f"  post -> published, {paced:,} sets at 200/s:  p50 {_percentile(latencies, 0.5) * 1000:6.0f} ms"
          f"  p99 {_percentile(latencies, 0.99) * 1000:6.0f} ms  (target p50 <= 250 ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=50_000)
    parser.add_argument("--paced", type=int, default=2_000)
    parser.add_argument("--stores", default="sqlite,cassandra")
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument("--kafka", default=os.environ.get("LEDGER_TEST_KAFKA", "127.0.0.1:9092"))
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores")
    for kind in args.stores.split(","):
        run(kind, args.sets, args.paced, args.host, args.kafka)


if __name__ == "__main__":
    main()
