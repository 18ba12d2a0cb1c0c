"""The ingester and its dead-letter topic: one that does not exist is named at start in a few
lines (aiokafka would log each metadata retry), a poison message of any size the topic takes goes
there, and one it refuses stops the ingester without being logged as dead-lettered; a session timeout the
broker refuses is named."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic

from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from .conftest import create_topics, ingest, read_records, unique_topic

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_missing_dead_letter_topic_is_one_line_on_stderr(kafka_bootstrap: str, ledger: str) -> None:
    topic, missing = unique_topic("sets"), unique_topic("no-dead")
    await create_topics(kafka_bootstrap, NewTopic(topic, 1, 1))
    url = f"kafka://{kafka_bootstrap}/{topic}?group=g&dead_letter={missing}"
    done = ingest(ledger, url, "--stop-when-idle")
    _, stderr = done.communicate(timeout=180)
    assert done.returncode == 1 and "create it first" in stderr, stderr[-500:]
    lines = stderr.splitlines()
    assert len(lines) <= 5, f"{len(lines)} lines on stderr, e.g. {lines[0]!r}"


BIG = {"max.message.bytes": str(8 * 1024 * 1024)}
POISON = b"x" * (2 * 1024 * 1024)


async def _ingest_poison(bootstrap: str, ledger: str, dead_takes_it: bool) -> tuple[str, str, int, str]:
    """A 2 MiB poison message and then a valid set, ingested with a dead-letter topic that takes
    messages that big or not: the topic, the dead-letter topic, the exit code, stderr."""
    topic, dead = unique_topic("big"), unique_topic("big-dead")
    await create_topics(bootstrap, NewTopic(topic, 1, 1, topic_configs=BIG),
                        NewTopic(dead, 1, 1, topic_configs=BIG if dead_takes_it else {}))  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=8 * 1024 * 1024, acks="all")
    await producer.start()
    try:
        for value in (POISON, transfer("1.00", 1727347200000).encode()):
            await (await producer.send(topic, value))
    finally:
        await producer.stop()
    done = ingest(ledger, f"kafka://{bootstrap}/{topic}?group=g&dead_letter={dead}", "--stop-when-idle")
    _, stderr = done.communicate(timeout=300)
    return topic, dead, done.returncode, stderr


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_poison_message_of_2_mib_goes_to_a_dead_letter_topic_that_takes_it(
    kafka_bootstrap: str, ledger: str
) -> None:
    """The producer once kept aiokafka's 1 MiB request cap, whatever the dead-letter topic took."""
    _topic, dead, code, stderr = await _ingest_poison(kafka_bootstrap, ledger, dead_takes_it=True)
    assert code == 0, stderr[-500:]
    (record,) = await read_records(kafka_bootstrap, dead, 1)
    assert record.value == POISON
    async with open_ledger(LedgerOptions(store=ledger)) as engine:
        assert [len(page) async for page in engine.books().sets()] == [1]


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_message_the_dead_letter_topic_refuses_is_not_logged_as_dead_lettered(
    kafka_bootstrap: str, ledger: str
) -> None:
    """The log says a message was dead-lettered only once the broker has taken it."""
    topic, _dead, code, stderr = await _ingest_poison(kafka_bootstrap, ledger, dead_takes_it=False)
    assert code == 3 and "cannot send" in stderr, stderr[-500:]
    assert f"dead-lettered {topic}/0@0" not in stderr, stderr[-500:]


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_session_timeout_the_broker_refuses_is_named(kafka_bootstrap: str, ledger: str) -> None:
    """The test broker takes 1 s to 10 min (tools/kafka/broker.py): 15 min is within the URL's own
    bounds, so only the broker can refuse it, and the ingester says which parameter."""
    topic = unique_topic("timeout")
    await create_topics(kafka_bootstrap, NewTopic(topic, 1, 1))
    done = ingest(
        ledger, f"kafka://{kafka_bootstrap}/{topic}?group=g&session_timeout_ms=900000", "--stop-when-idle"
    )
    _, stderr = done.communicate(timeout=180)
    assert done.returncode == 1, stderr[-500:]
    assert "session_timeout_ms: the Kafka broker refuses 900,000 ms" in stderr and "Traceback" not in stderr
