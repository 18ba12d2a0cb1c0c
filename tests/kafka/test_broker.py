"""The local Kafka broker: a client round trip through it, and tools/kafka/broker.py itself.

Why: the ingest/publish commands rely on what the round trip checks exactly (an idempotent
producer's acks, a consumer group's committed offsets surviving the consumer), and `make test`
relies on the tool's exit codes and on it never signalling a process it did not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from ..support.ring import OWN_NODES
from .conftest import BROKER, BROKER_TOOL, kafka_endpoint

MESSAGES = 1000
PARTITIONS = 3
WITHIN_S = 60.0


# --------------------------------------------------------------------------------------------
# A client round trip
# --------------------------------------------------------------------------------------------


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        described = await admin.describe_topics([topic])
        assert [len(t["partitions"]) for t in described] == [partitions]
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, values: list[str]) -> Counter[int]:
    """Send every value (keyed by itself) idempotently with acks=all; messages per partition."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(topic, key=v.encode(), value=v.encode()) for v in values]
        acked = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    assert all(meta.topic == topic and meta.offset >= 0 for meta in acked)
    return Counter(meta.partition for meta in acked)


async def consume_until(consumer: AIOKafkaConsumer, count: int) -> list[tuple[int, int, str]]:
    """(partition, offset, value) of records until ``count`` arrived (fails after WITHIN_S)."""
    got: list[tuple[int, int, str]] = []
    deadline = time.monotonic() + WITHIN_S
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} records within {WITHIN_S:g}s"
        batches = await consumer.getmany(timeout_ms=500)
        for tp, records in batches.items():
            got += [(tp.partition, r.offset, r.value.decode()) for r in records if r.value is not None]
    return got


async def assigned(consumer: AIOKafkaConsumer, partitions: int) -> set[TopicPartition]:
    """Poll until the group gave this consumer ``partitions`` partitions; the records polled on
    the way must be none (the caller expects nothing before the next produce)."""
    deadline = time.monotonic() + WITHIN_S
    while len(consumer.assignment()) < partitions:
        assert time.monotonic() < deadline, f"assignment {consumer.assignment()} after {WITHIN_S:g}s"
        stray = await consumer.getmany(timeout_ms=200)
        assert not any(stray.values()), f"records after the commit: {stray}"
    return set(consumer.assignment())


def group_consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )


@pytest.mark.kafka
async def test_idempotent_produce_group_consume_commit_and_resume(
    kafka_bootstrap: str, kafka_topic: str
) -> None:
    await create_topic(kafka_bootstrap, kafka_topic, PARTITIONS)
    values = [f"m{i:04d}" for i in range(MESSAGES)]
    per_partition = await produce(kafka_bootstrap, kafka_topic, values)
    assert sum(per_partition.values()) == MESSAGES
    assert sorted(per_partition) == list(range(PARTITIONS)), "the keys should spread over every partition"
    group = f"{kafka_topic}-group"

    first = group_consumer(kafka_bootstrap, kafka_topic, group)
    await first.start()
    try:
        got = await consume_until(first, MESSAGES)
        await first.commit()
        tps = [TopicPartition(kafka_topic, p) for p in range(PARTITIONS)]
        ends = await first.end_offsets(tps)
        committed = {tp: await first.committed(tp) for tp in tps}
    finally:
        await first.stop()
    assert sorted(v for _, _, v in got) == values  # every message, exactly once
    assert Counter(p for p, _, _ in got) == per_partition
    for p in range(PARTITIONS):
        offsets = [o for q, o, _ in got if q == p]
        assert offsets == list(range(len(offsets))), f"partition {p} read out of order or with gaps"
    assert {tp.partition: end for tp, end in ends.items()} == dict(per_partition)
    assert committed == ends

    # A second consumer in the group resumes at the commit: nothing old, then exactly what is new.
    second = group_consumer(kafka_bootstrap, kafka_topic, group)
    await second.start()
    try:
        tps_assigned = await assigned(second, PARTITIONS)
        assert {tp: await second.position(tp) for tp in tps_assigned} == ends
        more = [f"n{i:02d}" for i in range(10)]
        await produce(kafka_bootstrap, kafka_topic, more)
        resumed = await consume_until(second, len(more))
        await asyncio.sleep(0.5)
        late = await second.getmany(timeout_ms=500)
    finally:
        await second.stop()
    assert sorted(v for _, _, v in resumed) == more
    assert not any(late.values())


# --------------------------------------------------------------------------------------------
# The tool
# --------------------------------------------------------------------------------------------


def run_tool(
    *args: str, port: int, run_dir: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_KAFKA_PORT"] = str(port)
    if run_dir is not None:
        env["LEDGER_KAFKA_RUN_DIR"] = str(run_dir)
    return subprocess.run(
        [sys.executable, str(BROKER_TOOL), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def free_port_pair() -> int:
    """A port p such that p and p + 1 (the default controller port) are both free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65535 and not BROKER.port_open(port) and not BROKER.port_open(port + 1):
            return port
    raise AssertionError("no free pair of ports")


@contextlib.contextmanager
def listener() -> Iterator[tuple[int, socket.socket]]:
    """A plain TCP listener that is not Kafka (it accepts and never answers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1]), sock


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.kafka
def test_status_and_logs_of_the_running_broker(kafka_bootstrap: str) -> None:
    host, port = kafka_endpoint()
    state = BROKER.Paths(port).state_file
    if host != BROKER.ADDRESS or not state.is_file():
        pytest.skip(
            f"the broker at {kafka_bootstrap} was not started by tools/kafka/broker.py from this repo"
        )
    assert json.loads(state.read_text())["port"] == port
    status = run_tool("status", port=port)
    assert (status.returncode, status.stdout.strip()) == (
        0,
        f"[kafka] running (pid {BROKER._read_pid(BROKER.Paths(port))}), answering on {kafka_bootstrap}",
    )
    up = run_tool("up", port=port)
    assert up.returncode == 0 and "already running" in up.stdout
    logs = run_tool("logs", "-n", "5", port=port)
    assert logs.returncode == 0
    assert len(logs.stdout.splitlines()) == 5
    out = run_tool("logs", "--out", "-n", "1", port=port)
    assert out.returncode == 0


@OWN_NODES
@pytest.mark.kafka
def test_a_broker_of_its_own_up_status_logs_down(kafka_bootstrap: str, tmp_path: Path) -> None:
    """A second, short-lived broker on other ports (cheap once `make kafka-up` cached the jars and
    the class-data archives): up, up again, status, logs, down (which returns once it is gone)."""
    port = free_port_pair()
    run_dir = tmp_path / "run"
    up = run_tool("up", "--quick-jit", port=port, run_dir=run_dir, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"ready: answering on 127.0.0.1:{port}" in up.stdout
        pid = int((run_dir / "kafka.pid").read_text())
        assert BROKER.metadata_brokers(port) == [1]
        again = run_tool("up", port=port, run_dir=run_dir)
        assert (again.returncode, again.stdout) == (
            0,
            f"[kafka] broker already running (pid {pid}) and answering on 127.0.0.1:{port}\n",
        )
        status = run_tool("status", port=port, run_dir=run_dir)
        assert status.returncode == 0
        logs = run_tool("logs", port=port, run_dir=run_dir)
        assert logs.returncode == 0 and "Kafka Server started" in logs.stdout
    finally:
        down = run_tool("down", port=port, run_dir=run_dir)
    assert down.returncode == 0 and "broker stopped" in down.stdout
    assert not BROKER._is_alive(pid)
    assert not (run_dir / "kafka.pid").exists()
    assert not BROKER.port_open(port)
    status = run_tool("status", port=port, run_dir=run_dir)
    assert status.returncode == 1 and "not running" in status.stdout


def test_status_logs_and_down_without_a_broker(tmp_path: Path) -> None:
    port = free_port_pair()
    status = run_tool("status", port=port, run_dir=tmp_path)
    assert status.returncode == 1 and "not running" in status.stdout
    logs = run_tool("logs", port=port, run_dir=tmp_path)
    assert logs.returncode == 1 and "no log at" in logs.stdout
    down = run_tool("down", port=port, run_dir=tmp_path)
    assert down.returncode == 0 and "nothing to stop" in down.stdout
    for done in (status, logs, down):
        no_traceback(done)


def test_something_else_on_the_port_is_named_and_never_taken_for_a_broker(tmp_path: Path) -> None:
    with listener() as (port, _sock):
        assert BROKER.metadata_brokers(port, timeout=0.5) is None
        status = run_tool("status", port=port, run_dir=tmp_path)
        assert status.returncode == 1 and "something else listens" in status.stdout
        up = run_tool("up", port=port, run_dir=tmp_path)
    assert up.returncode == 1
    assert up.stderr.startswith(f"[kafka] error: something else already listens on 127.0.0.1:{port}")
    assert f"pid {os.getpid()}" in up.stderr  # the owner is named
    no_traceback(up)


def test_down_never_signals_a_process_it_did_not_start(tmp_path: Path) -> None:
    port = free_port_pair()
    other = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "kafka.pid").write_text(f"{other.pid}\n")
        down = run_tool("down", port=port, run_dir=tmp_path)
        assert down.returncode == 0 and "stale pid file" in down.stdout
        assert other.poll() is None
        assert not (tmp_path / "kafka.pid").exists()
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEDGER_KAFKA_PORT": "kafka"}, "LEDGER_KAFKA_PORT='kafka' is not a port number"),
        ({"LEDGER_KAFKA_PORT": "70000"}, "LEDGER_KAFKA_PORT='70000' is out of range"),
        (
            {"LEDGER_KAFKA_CONTROLLER_PORT": "{port}"},
            "the client port and the controller port are both {port}",
        ),
        ({"LEDGER_KAFKA_HEAP": "lots"}, "LEDGER_KAFKA_HEAP='lots' is not a JVM size like 512m or 1g"),
        ({"LEDGER_KAFKA_HEAP": "16m"}, "LEDGER_KAFKA_HEAP='16m' is too small for a broker (64m at least)"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    port = free_port_pair()
    full = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    full |= {"LEDGER_KAFKA_PORT": str(port), "LEDGER_KAFKA_RUN_DIR": str(tmp_path)}
    full |= {k: v.format(port=port) for k, v in env.items()}
    done = subprocess.run(
        [sys.executable, str(BROKER_TOOL), "up"], env=full, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (1, f"[kafka] error: {message.format(port=port)}\n")
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


def test_a_run_dir_that_cannot_be_made_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    done = run_tool("up", port=free_port_pair(), run_dir=tmp_path / "file" / "run")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"[kafka] error: Not a directory: {tmp_path / 'file' / 'run'}\n"


def test_bad_arguments_are_usage_errors() -> None:
    done = run_tool("up", "--timeout", "soon", port=free_port_pair())
    assert done.returncode == 2 and "'soon' is not a number of seconds" in done.stderr
    no_traceback(done)


def test_cluster_ids_look_like_kafkas() -> None:
    ids = {BROKER.cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for text in ids:
        assert len(text) == 22 and not text.startswith("-")
        assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    ("heap", "sizes"), [("", ("256m", "512m")), ("1g", ("256m", "1g")), ("128m", ("128m", "128m"))]
)
def test_heap_sizes(monkeypatch: pytest.MonkeyPatch, heap: str, sizes: tuple[str, str]) -> None:
    monkeypatch.setenv("LEDGER_KAFKA_HEAP", heap)
    assert BROKER.heap_sizes() == sizes
