"""``ledger-tui publish kafka://...`` on a real broker and both stores: kill -9 of the publisher at
random points and restarts, with posting going on: a consumer of the topic sees every set, and
after dropping repeated event ids exactly once, each in its key's partition in commit order."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from .conftest import read_records, unique_topic
from .test_ingest import _topic

pytestmark = pytest.mark.kafka
SETS = 10_000
LATER = 300


def _publish(store: str, target: str, *extra: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "ledger_tui",
        "--store",
        store,
        "publish",
        target,
        "--name",
        "relay",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _import(store: str, path: Path, count: int, first: int) -> list[uuid.UUID]:
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"published-{n}") for n in range(first, first + count)]
    path.write_text(
        "".join(
            transfer(1 + n % 40, 1727347200000 + n, transaction_id=txid) + "\n" for n, txid in enumerate(ids)
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "ledger_tui", "--store", store, "import", str(path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return ids


async def _on_topic(consumer: AIOKafkaConsumer, topic: str) -> int:
    """Records on the topic (its partitions' end offsets)."""
    return sum((await consumer.end_offsets([TopicPartition(topic, n) for n in range(3)])).values())


async def test_kill_minus_9_and_restarts_publish_every_set_once_after_dropping_repeats(
    kafka_bootstrap: str,
    ledger: str,
    tmp_path: Path,
) -> None:
    topic = unique_topic("events")
    await _topic(kafka_bootstrap, topic, 3)
    posted = _import(ledger, tmp_path / "sets.jsonl", SETS, 0)
    imported_at = time.monotonic()
    target = f"kafka://{kafka_bootstrap}/{topic}"
    watcher = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await watcher.start()
    cut_short = 0
    try:
        for kills, threshold in enumerate(sorted(random.Random(11).sample(range(500, SETS - 1000), 3)), 1):
            process = _publish(ledger, target)
            while process.poll() is None and await _on_topic(watcher, topic) < threshold:
                await asyncio.sleep(0.01)
            assert process.poll() is None, process.communicate()[1]
            process.send_signal(signal.SIGKILL)  # mid-page, mid-send or between a send and its save
            process.wait(timeout=60)
            cut_short += await _on_topic(watcher, topic) < SETS
            async with open_ledger(LedgerOptions(store=ledger)) as engine:  # posting goes on meanwhile
                for n in range(LATER // 3):
                    txid = uuid.uuid5(uuid.NAMESPACE_URL, f"later-{kills}-{n}")
                    await engine.post_json(transfer(3, 1727347200000, transaction_id=txid))
                    posted.append(txid)
    finally:
        await watcher.stop()
    assert cut_short  # at least one kill came before everything was on the topic
    # The relay saves the settled cursor (10 s behind its clock): once the import is older than
    # that, a rerun can repeat only the sets posted later (on a fast machine the kill rounds end
    # within 10 s of the import, and a rerun would rightly repeat the import too).
    await asyncio.sleep(max(0.0, imported_at + 10.5 - time.monotonic()))
    done = _publish(ledger, target, "--stop-when-idle")
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0 and "Traceback" not in err, err
    watcher = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await watcher.start()
    try:
        on_topic = await _on_topic(watcher, topic)
    finally:
        await watcher.stop()
    messages = await read_records(kafka_bootstrap, topic, on_topic)
    first_seen: dict[str, dict[str, object]] = {}
    partition_of: dict[str, int] = {}
    for message in messages:
        event = json.loads(message.value)
        headers = dict(message.headers)
        assert headers["ledger.event_id"].decode() == event["event_id"]
        assert message.key.decode() == event["transaction_id"]
        first_seen.setdefault(event["event_id"], event)
        assert partition_of.setdefault(event["transaction_id"], message.partition) == message.partition
    assert sorted(uuid.UUID(str(e["transaction_id"])) for e in first_seen.values()) == sorted(posted)
    assert len(messages) >= len(first_seen) == SETS + LATER
    if ledger.startswith("sqlite"):  # exact cursors: each partition holds its sets in commit order
        by_partition: dict[int, list[int]] = {}
        seen: set[str] = set()
        for message in messages:
            event = json.loads(message.value)
            if event["event_id"] not in seen:
                seen.add(event["event_id"])
                by_partition.setdefault(message.partition, []).append(int(event["cursor"][3:]))
        assert all(numbers == sorted(numbers) for numbers in by_partition.values())
    if ledger.startswith("cassandra"):
        # Its saved cursor is the settled one (10 s behind): a rerun repeats at most the sets of
        # those seconds (the ones posted last), and once they settled, the run after it none.
        await asyncio.sleep(10.5)
        rerun = _publish(ledger, target, "--stop-when-idle")
        out, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0 and int(out.split("events ")[1].split()[0]) <= LATER, out + err
    again = _publish(ledger, target, "--stop-when-idle")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and "events 0 " in out, out + err  # the cursor was saved at the end


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_an_unreachable_broker_or_a_missing_topic_is_a_clear_error(
    kafka_bootstrap: str,
    ledger: str,
) -> None:
    missing = _publish(ledger, f"kafka://{kafka_bootstrap}/{unique_topic('absent')}", "--stop-when-idle")
    _out, err = missing.communicate(timeout=120)
    assert missing.returncode == 3 and "create it first" in err and "Traceback" not in err, err
    closed = _publish(ledger, "kafka://127.0.0.1:1/events", "--stop-when-idle")
    _out, err = closed.communicate(timeout=120)
    assert closed.returncode == 3 and "cannot reach the Kafka broker" in err and "Traceback" not in err, err
    bad = _publish(ledger, "kafka:///events")
    _out, err = bad.communicate(timeout=60)
    assert bad.returncode != 0 and "url" in err and "Traceback" not in err, err
