"""Fixtures for tests that need a Kafka broker: its address and a fresh topic name per test.

The broker is the one from ``make kafka-up`` (or LEDGER_TEST_KAFKA=host:port, read once at import,
before the suite clears every LEDGER_* variable). When it does not answer a Kafka request a test
skips locally but FAILS under CI=true, as the Cassandra leg does.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ..support.stores import IN_CI, JANITOR

KAFKA_ENDPOINT = os.environ.get("LEDGER_TEST_KAFKA", "127.0.0.1:9092")
BROKER_TOOL = Path(__file__).resolve().parents[2] / "tools" / "kafka" / "broker.py"


def load_broker_tool() -> ModuleType:
    """tools/kafka/broker.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("kafka_broker_tool", BROKER_TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BROKER = load_broker_tool()


def kafka_endpoint() -> tuple[str, int]:
    """host, port of the test broker."""
    host, _, port = KAFKA_ENDPOINT.rpartition(":")
    return host or "127.0.0.1", int(port)


def require_kafka() -> str:
    """The broker's bootstrap address; fails under CI (never skips there) when it does not answer a
    Metadata request that lists a broker (an open port alone is not enough)."""
    host, port = kafka_endpoint()
    brokers = BROKER.metadata_brokers(port, host, timeout=3.0)
    if not brokers:
        state = "port closed" if not BROKER.port_open(port, host) else "no Kafka answer"
        message = f"Kafka test broker {host}:{port} unreachable ({state}); run `make kafka-up`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return f"{host}:{port}"


@pytest.fixture
def kafka_bootstrap() -> str:
    """bootstrap_servers for a client of the test broker."""
    return require_kafka()


@pytest.fixture
def kafka_topic() -> str:
    """A topic name no other test (or earlier run) uses; the test creates the topic itself."""
    return f"ledger-test-{uuid.uuid4().hex[:16]}"


def unique_topic(prefix: str) -> str:
    """A topic name no other test (or earlier run) uses, for a test that needs several."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def read_records(bootstrap: str, topic: str, expected: int, wait: float = 120.0) -> list[Any]:
    """The topic's records from the start until ``expected`` are read (or ``wait`` seconds pass)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + wait
        while len(found) < expected and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(messages)
    finally:
        await consumer.stop()
    return found


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[str]:
    """A fresh ledger for an ingester, its schema applied as an operator would."""
    subprocess.run([sys.executable, "-m", "ledger_tui", "--store", ledger_url, "schema", "apply"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    yield ledger_url
    if ledger_url.startswith("cassandra"):
        JANITOR.drop(ledger_url)


async def create_topics(bootstrap: str, *topics: Any) -> None:
    """Create ``NewTopic``s on the test broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(list(topics))
    finally:
        await admin.close()


async def until_group_is_stable(bootstrap: str, group: str, members: int, within_s: float = 120) -> None:
    """Return once the consumer group has ``members`` members and no rebalance under way (its
    partitions are assigned), instead of sleeping for a guessed time."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    deadline = time.monotonic() + within_s
    try:
        while True:
            [described] = await admin.describe_consumer_groups([group])
            [(_error, _name, state, *_rest, found)] = described.groups
            if state == "Stable" and len(found) == members:
                return
            assert time.monotonic() < deadline, f"group {group}: {state} with {len(found)} members"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def ingest(store: str, url: str, *extra: str) -> subprocess.Popen[str]:
    """``ledger-tui ingest`` as an operator runs it, in a process of its own."""
    command = [sys.executable, "-m", "ledger_tui", "--store", store, "ingest", url, *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
