"""``ledger-tui ingest`` on a real broker and both stores: every set once, poison to the dead-letter
topic with its reason and nothing of it written, kill -9 at random points, two ingesters sharing
a group, SIGTERM finishing the batch in hand."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic

from ledger_tui.ingest.source import message_id
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.ring import OWN_NODES
from .conftest import create_topics, ingest, read_records, unique_topic, until_group_is_stable
from .test_broker import free_port_pair, run_tool

pytestmark = pytest.mark.kafka


async def _topic(bootstrap: str, name: str, partitions: int) -> None:
    await create_topics(bootstrap, NewTopic(name, partitions, 1))


async def _produce(bootstrap: str, topic: str, values: list[bytes | None], partitions: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sends = [
            await producer.send(topic, value, key=str(n).encode(), partition=n % partitions)
            for n, value in enumerate(values)
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux): an ingester's workers."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting to be reaped does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


async def _set_ids(store: str, verify: bool = True) -> list[uuid.UUID]:
    async with open_ledger(LedgerOptions(store=store)) as engine:
        found: list[uuid.UUID] = []
        async for page in engine.books().sets():
            found.extend(t.transaction_id for t in page)
        if verify:
            report = await engine.verify()
            assert report.ok, report
        return found


def _valid(n: int, with_id: bool) -> bytes:
    data = json.loads(transfer(1 + n % 50, 1727347200000 + n))
    if not with_id:
        data.pop("transaction_id", None)
    else:
        data["transaction_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"set-{n}"))
    return json.dumps(data).encode()


async def test_every_set_once_and_poison_to_the_dead_letter_topic(kafka_bootstrap: str, ledger: str) -> None:
    topic, dead = unique_topic("sets"), unique_topic("dead")
    await _topic(kafka_bootstrap, topic, 3)
    await _topic(kafka_bootstrap, dead, 1)
    valid = [_valid(n, with_id=n % 2 == 0) for n in range(300)]
    unbalanced = json.loads(valid[0])
    unbalanced["entries"][0]["amount"] = "999.00"
    unbalanced["transaction_id"] = str(uuid.uuid4())
    surrogate = json.loads(valid[4])
    surrogate["transaction_id"] = str(uuid.uuid4())
    surrogate["entries"][0]["description"] = "\ud800 lone surrogate"  # json.dumps keeps it as \ud800
    conflicting = json.loads(valid[2])  # the id of set 2 with another amount
    conflicting["entries"][0]["amount"] = conflicting["entries"][1]["amount"] = "7.00"
    poison = [b"not json", json.dumps(unbalanced).encode(), b'{"entries": "\xff"}', None,
              json.dumps({"entries": [{"address": "\u202e<script>", "amount": 1}]}).encode(),
              json.dumps(conflicting).encode(), json.dumps(surrogate).encode()]  # fmt: skip
    values = valid[:150] + poison + valid[150:]
    await _produce(kafka_bootstrap, topic, values, 3)
    url = f"kafka://{kafka_bootstrap}/{topic}?group=g1&dead_letter={dead}"
    done = ingest(ledger, url, "--stop-when-idle")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert "sets 300 " in out and "dead-lettered 7" in out and "Traceback" not in err
    ids = await _set_ids(ledger)
    assert len(ids) == len(set(ids)) == 300
    n_by_partition: dict[int, int] = {}  # which offset each message got: n-th message of its partition
    expected = set()
    for n, value in enumerate(values):
        partition = n % 3
        offset = n_by_partition.get(partition, 0)
        n_by_partition[partition] = offset + 1
        if value in valid:
            data = json.loads(value)
            expected.add(uuid.UUID(data["transaction_id"]) if "transaction_id" in data
                         else message_id(topic, partition, offset))  # fmt: skip
    assert set(ids) == expected
    letters = await read_records(kafka_bootstrap, dead, 7)
    assert sorted(m.value or b"" for m in letters) == sorted(v or b"" for v in poison)
    for letter in letters:
        headers = dict(letter.headers)
        assert headers["ledger.topic"].decode() == topic and headers["ledger.error"]
        assert int(headers["ledger.offset"]) >= 0 and int(headers["ledger.partition"]) in (0, 1, 2)
    reasons = " | ".join(dict(m.headers)["ledger.error"].decode() for m in letters)
    assert "not valid JSON" in reasons and "unbalanced in GBP" in reasons and "conflict" in reasons
    again = ingest(
        ledger, f"kafka://{kafka_bootstrap}/{topic}?group=g2&dead_letter={dead}", "--stop-when-idle"
    )
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and "sets 0 " in out and "repeats 300" in out, out + err
    assert sorted(await _set_ids(ledger)) == sorted(ids)


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_without_a_dead_letter_topic_ingestion_stops_at_the_poison(
    kafka_bootstrap: str, ledger: str
) -> None:
    topic = unique_topic("stop")
    await _topic(kafka_bootstrap, topic, 1)
    await _produce(kafka_bootstrap, topic, [_valid(0, True), b"[1, 2", _valid(1, True)], 1)
    done = ingest(ledger, f"kafka://{kafka_bootstrap}/{topic}?group=g", "--stop-when-idle")
    _out, err = done.communicate(timeout=300)
    assert done.returncode == 1 and f"{topic} partition 0 offset 1: " in err and "Traceback" not in err, err
    assert len(await _set_ids(ledger)) == 1  # the set after the poison is not written either
    again = ingest(ledger, f"kafka://{kafka_bootstrap}/{topic}?group=g", "--stop-when-idle")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 1 and "offset 1" in err  # the committed offset stopped before it


async def test_kill_minus_9_at_random_points_loses_and_duplicates_nothing(
    kafka_bootstrap: str, ledger: str
) -> None:
    topic, sets = unique_topic("kill"), 10_000
    await _topic(kafka_bootstrap, topic, 3)
    await _produce(kafka_bootstrap, topic, [_valid(n, with_id=n % 3 != 0) for n in range(sets)], 3)
    # A killed member's partitions move after its session timeout: 3 s here, not aiokafka's 10.
    url = f"kafka://{kafka_bootstrap}/{topic}?group=g&session_timeout_ms=3000"
    cut_short = 0
    for threshold in sorted(random.Random(7).sample(range(100, sets - 500), 3)):
        # a run that stopped past the next threshold must still be cut by this one, once it writes
        target = min(max(threshold, len(await _set_ids(ledger, verify=False)) + 100), sets)
        process = ingest(ledger, url, "--batch", "100", "--workers", "2")
        while process.poll() is None and (
            len(await _set_ids(ledger, verify=False)) < target or not children(process.pid)
        ):
            await asyncio.sleep(0.05)
        workers = children(process.pid)
        if process.poll() is not None:
            pytest.fail(f"the ingester stopped on its own: {process.communicate()[1][-5000:]}")
        process.send_signal(signal.SIGKILL)  # mid-stream: somewhere in a batch, its commit or the next read
        process.wait(timeout=60)
        deadline = time.monotonic() + 10
        while any(map(alive, workers)) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert workers and not any(map(alive, workers)), workers  # the workers died with it
        cut_short += len(await _set_ids(ledger, verify=False)) < sets
    assert cut_short
    done = ingest(ledger, url, "--stop-when-idle")
    _out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    ids = await _set_ids(ledger)
    assert len(ids) == len(set(ids)) == sets


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_two_ingesters_share_a_group_and_sigterm_commits_the_batch(
    kafka_bootstrap: str, ledger: str
) -> None:
    topic, group, sets = unique_topic("pair"), unique_topic("pair-group"), 2000
    await _topic(kafka_bootstrap, topic, 4)
    url = f"kafka://{kafka_bootstrap}/{topic}?group={group}"
    pair = [ingest(ledger, url, "--batch", "100") for _ in range(2)]
    await until_group_is_stable(kafka_bootstrap, group, 2)  # the second join rebalanced it
    await _produce(kafka_bootstrap, topic, [_valid(n, with_id=True) for n in range(sets)], 4)
    deadline = time.monotonic() + 300
    while len(await _set_ids(ledger, verify=False)) < sets:  # verify once the writers are done
        assert time.monotonic() < deadline and all(p.poll() is None for p in pair)
        await asyncio.sleep(1)
    outputs = []
    for process in pair:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0 and "Traceback" not in err, err
        outputs.append(out)
    written = [int(out.split("sets ")[1].split()[0]) for out in outputs]
    assert sum(written) == sets and all(w > 0 for w in written), outputs
    assert len(await _set_ids(ledger)) == sets
    after = ingest(ledger, url, "--stop-when-idle")  # the group's offsets were committed on SIGTERM
    out, _ = after.communicate(timeout=300)
    assert after.returncode == 0 and "sets 0 " in out and "repeats 0 " in out, out


@OWN_NODES
@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_broker_restart_mid_stream_loses_and_duplicates_nothing(
    kafka_bootstrap: str, ledger: str, tmp_path: Path
) -> None:
    port, run_dir, sets = free_port_pair(), tmp_path / "broker", 3000
    assert run_tool("up", "--quick-jit", port=port, run_dir=run_dir, timeout=180).returncode == 0
    try:
        bootstrap, topic = f"127.0.0.1:{port}", unique_topic("restart")
        await _topic(bootstrap, topic, 3)
        await _produce(bootstrap, topic, [_valid(n, with_id=n % 2 == 0) for n in range(sets)], 3)
        process = ingest(ledger, f"kafka://{bootstrap}/{topic}?group=g", "--batch", "50")
        # The Kafka client logs a few lines per retry while the broker is away: read them as they
        # come (a full pipe would block the ingester on its next log line and look like a hang).
        lines: list[str] = []
        drain = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
        drain.start()
        while process.poll() is None and len(await _set_ids(ledger, verify=False)) < sets // 4:
            await asyncio.sleep(0.05)
        assert run_tool("down", port=port, run_dir=run_dir).returncode == 0
        during = len(await _set_ids(ledger, verify=False))
        await asyncio.sleep(2)
        again = run_tool("up", "--quick-jit", "--keep-data", port=port, run_dir=run_dir, timeout=180)
        assert again.returncode == 0, again.stdout + again.stderr
        deadline = time.monotonic() + 300
        while len(await _set_ids(ledger, verify=False)) < sets:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                drain.join(timeout=10)
                pytest.fail(f"stopped or stuck after the restart: {''.join(lines)[-5000:]}")
            await asyncio.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        drain.join(timeout=10)
        err = "".join(lines)
        assert process.returncode == 0 and "Traceback" not in err, err[-5000:]
        assert during < sets  # the broker went away mid-stream
        ids = await _set_ids(ledger)
        assert len(ids) == len(set(ids)) == sets
    finally:
        run_tool("down", port=port, run_dir=run_dir)


@pytest.mark.parametrize("store_kind", ["sqlite"])
@pytest.mark.parametrize("workers", ["1", "2"])
async def test_sets_a_limit_refuses_go_to_the_dead_letter_topic(
    kafka_bootstrap: str, ledger: str, workers: str
) -> None:
    topic, dead = unique_topic("limited"), unique_topic("dead")
    await _topic(kafka_bootstrap, topic, 1)
    await _topic(kafka_bootstrap, dead, 1)
    limit = [sys.executable, "-m", "ledger_tui", "--store", ledger, "limit", "set"]
    subprocess.run([*limit, "test_uk/com.test.customer/current/GBP/acc-1", "--min", "-100"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    values: list[bytes | None] = [
        transfer("30.00", 1727347200000, transaction_id=uuid.uuid4()).encode() for _ in range(10)
    ]
    await _produce(kafka_bootstrap, topic, values, 1)
    url = f"kafka://{kafka_bootstrap}/{topic}?group=g&dead_letter={dead}"
    done = ingest(ledger, url, "--stop-when-idle", "--workers", workers)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0 and "Traceback" not in err, err
    assert "sets 3 " in out and "dead-lettered 7" in out, out
    letters = await read_records(kafka_bootstrap, dead, 7)
    assert sorted(m.value or b"" for m in letters) == sorted(v or b"" for v in values[3:])
    reasons = {dict(m.headers)["ledger.error"].decode() for m in letters}
    assert len(reasons) == 1 and "below its minimum -100.00" in reasons.pop()
