"""review42: what the ingester says about its dead-letter topic.

A dead-letter topic that does not exist is to be named at start in one line:
``Ingester.run`` now looks the dead-letter topic up with ``producer.partitions_for``, which asks
for metadata every 100 ms for its 40 s request timeout, and aiokafka logs a warning at each ask;
the command configures no logging, so Python's last-resort handler prints each one: some 370
lines of "Topic ... not found in cluster metadata" on stderr before the one line that says what
is wrong.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from ..support.stores import JANITOR
from .conftest import unique_topic

pytestmark = pytest.mark.kafka


@pytest.fixture
def ledger(ledger_url: str, tmp_path: Path) -> Iterator[str]:
    subprocess.run([sys.executable, "-m", "ledger_tui", "--store", ledger_url, "schema", "apply"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    yield ledger_url
    if ledger_url.startswith("cassandra"):
        JANITOR.drop(ledger_url)


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_missing_dead_letter_topic_is_one_line_on_stderr(kafka_bootstrap: str, ledger: str) -> None:
    topic, missing = unique_topic("sets"), unique_topic("no-dead")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    url = f"kafka://{kafka_bootstrap}/{topic}?group=g&dead_letter={missing}"
    done = subprocess.run(
        [sys.executable, "-m", "ledger_tui", "--store", ledger, "ingest", url, "--stop-when-idle"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 1 and "create it first" in done.stderr, done.stderr[-500:]
    lines = done.stderr.splitlines()
    assert len(lines) <= 5, f"{len(lines)} lines on stderr, e.g. {lines[0]!r}"


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_message_the_dead_letter_topic_refuses_is_not_logged_as_dead_lettered(
    kafka_bootstrap: str, ledger: str
) -> None:
    """``_refuse`` logs "dead-lettered ..." once the send is queued, before the broker answers; when
    the dead-letter topic then refuses it (too large), the log says it was dead-lettered and the
    next line that it could not be."""
    topic, dead = unique_topic("big"), unique_topic("small-dead")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        big = {"max.message.bytes": str(8 * 1024 * 1024)}
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=big), NewTopic(dead, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, max_request_size=8 * 1024 * 1024, acks="all"
    )
    await producer.start()
    try:
        await (await producer.send(topic, b"x" * (2 * 1024 * 1024)))
    finally:
        await producer.stop()
    url = f"kafka://{kafka_bootstrap}/{topic}?group=g&dead_letter={dead}"
    done = subprocess.run(
        [sys.executable, "-m", "ledger_tui", "--store", ledger, "ingest", url, "--stop-when-idle"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 3 and "cannot send" in done.stderr, done.stderr[-500:]
    assert f"dead-lettered {topic}/0@0" not in done.stderr, done.stderr[-500:]
