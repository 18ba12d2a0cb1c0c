"""The ingester against a scripted fake Kafka consumer and a producer that keeps aiokafka's own
size check, on the embedded store: refusals found at write time, dead letters of any size, and
topics that do not exist."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from ledger_tui.cli import main
from ledger_tui.domain.errors import BrokerUnavailable, ValidationError
from ledger_tui.ingest import consumer as consumer_module
from ledger_tui.ingest import topics as topics_module
from ledger_tui.ingest.consumer import Ingester, IngestStopped
from ledger_tui.ingest.sets import LocalWriter
from ledger_tui.ingest.source import parse_kafka_url
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer

TOPIC = "sets"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None


class FakeConsumer:
    """Hands out scripted batches ({partition: [values]}), then nothing; records commits."""

    script: list[dict[int, list[tuple[int, bytes | None]]]] = []
    last: FakeConsumer | None = None

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.batches = list(FakeConsumer.script)
        self.commits: list[dict[TopicPartition, int]] = []
        self.committed_at: dict[TopicPartition, int] = {}
        self.listener: Any = None
        FakeConsumer.last = self

    def subscribe(self, topics: list[str], listener: Any) -> None:
        self.listener = listener

    async def start(self) -> None:
        await self.listener.on_partitions_assigned(list(self.assignment()))

    async def stop(self) -> None:
        pass

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(TOPIC, p) for p in (0, 1)}

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Record]]:
        if not self.batches:
            await asyncio.sleep(0.01)
            return {}
        batch = self.batches.pop(0)
        return {
            TopicPartition(TOPIC, p): [Record(TOPIC, p, offset, value) for offset, value in records]
            for p, records in batch.items()
        }

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        plain = {tp: meta.offset for tp, meta in offsets.items()}
        self.commits.append(plain)
        self.committed_at.update(plain)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1}

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        ends: dict[TopicPartition, int] = {tp: 0 for tp in partitions}
        for batch in FakeConsumer.script:
            for p, records in batch.items():
                tp = TopicPartition(TOPIC, p)
                ends[tp] = max(ends[tp], max(o for o, _ in records) + 1)
        return ends

    async def beginning_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 0 for tp in partitions}

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.committed_at.get(tp)


class SizeCheckingProducer(AIOKafkaProducer):  # type: ignore[misc]
    """The real producer's configuration and its own size check on send (no broker: acked at once)."""

    sent: list[tuple[str, bytes | None]] = []
    topics: set[str] = set()

    async def start(self) -> None:
        async def fetch_all_metadata() -> SimpleNamespace:
            return SimpleNamespace(topics=lambda: set(SizeCheckingProducer.topics))

        self.client = SimpleNamespace(fetch_all_metadata=fetch_all_metadata)

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                   headers: Any = None, **_: Any) -> asyncio.Future[None]:  # fmt: skip
        self._serialize(key, value, headers)  # aiokafka's own check: raises MessageSizeTooLargeError
        SizeCheckingProducer.sent.append((topic, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_module, "AIOKafkaConsumer", FakeConsumer)
    monkeypatch.setattr(consumer_module, "AIOKafkaProducer", SizeCheckingProducer)
    monkeypatch.setattr(topics_module, "TOPIC_LOOKUP_PAUSE", 0.0)
    SizeCheckingProducer.sent = []
    SizeCheckingProducer.topics = {TOPIC, "dead"}


async def _ingest(url: str, kafka_url: str) -> tuple[BaseException | None, FakeConsumer]:
    async with open_ledger(LedgerOptions(store=url)) as engine:
        ingester = Ingester(LocalWriter(engine), parse_kafka_url(kafka_url), batch=100)
        error: BaseException | None = None
        try:
            await asyncio.wait_for(ingester.run(stop_when_idle=True), 30)
        except Exception as caught:
            error = caught
    assert FakeConsumer.last is not None
    return error, FakeConsumer.last


async def _stored(url: str, transaction_id: uuid.UUID) -> bool:
    async with open_ledger(LedgerOptions(store=url)) as engine:
        try:
            await engine.transaction(transaction_id)
        except Exception:
            return False
        return True


async def test_without_dead_letter_a_refusal_at_write_time_stops_the_partition_there(
    fake_kafka: None, sqlite_ledger: str
) -> None:
    """A conflict is found only by writing: the stop names its offset and the commit stops before
    it; a set after it in the same batch may be recorded already (docs/kafka-ingest.md), and the
    rerun that follows a fix finds it a duplicate."""
    taken, after = uuid.uuid4(), uuid.uuid4()
    FakeConsumer.script = [
        {0: [(0, transfer("1.00", 1727347200000, transaction_id=taken).encode())]},
        {0: [
            (1, transfer("2.00", 1727347200000, transaction_id=taken).encode()),  # conflicting
            (2, transfer("3.00", 1727347200000, transaction_id=after).encode()),
        ]},
    ]  # fmt: skip
    error, consumer = await _ingest(sqlite_ledger, f"kafka://127.0.0.1:1/{TOPIC}?group=g")
    assert isinstance(error, IngestStopped) and "offset 1" in str(error), error
    assert consumer.committed_at[TopicPartition(TOPIC, 0)] == 1


async def test_a_poison_message_over_one_mib_goes_to_the_dead_letter_topic(
    fake_kafka: None, sqlite_ledger: str
) -> None:
    """The producer had aiokafka's default max_request_size (1 MiB): send() raised for any refused
    message over it and the ingester died at it on every run."""
    poison = b"x" * (2 * 1024 * 1024)  # not JSON; a topic with max.message.bytes >= 2 MiB carries it
    FakeConsumer.script = [{0: [(0, poison)]}]
    error, consumer = await _ingest(sqlite_ledger, f"kafka://127.0.0.1:1/{TOPIC}?group=g&dead_letter=dead")
    assert error is None, f"{type(error).__name__}: {error}"
    assert SizeCheckingProducer.sent == [("dead", poison)]
    assert consumer.committed_at[TopicPartition(TOPIC, 0)] == 1


async def test_a_dead_letter_the_broker_refuses_stops_with_its_offset_uncommitted(
    fake_kafka: None, sqlite_ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiokafka.errors import MessageSizeTooLargeError

    async def refused(*args: Any, **kwargs: Any) -> asyncio.Future[None]:
        failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        failed.set_exception(MessageSizeTooLargeError())
        return failed

    monkeypatch.setattr(SizeCheckingProducer, "send", refused)
    FakeConsumer.script = [{0: [(0, b"not json")]}]
    error, consumer = await _ingest(sqlite_ledger, f"kafka://127.0.0.1:1/{TOPIC}?group=g&dead_letter=dead")
    assert isinstance(error, BrokerUnavailable), f"{type(error).__name__}: {error}"
    assert "offset 0" in str(error) and "MessageSizeTooLargeError" in str(error)
    assert TopicPartition(TOPIC, 0) not in consumer.committed_at


@pytest.mark.parametrize("split", [False, True], ids=["one-batch", "two-batches"])
async def test_what_is_recorded_does_not_depend_on_how_the_batches_fell(
    fake_kafka: None, sqlite_ledger: str, split: bool
) -> None:
    """A payment a limit refused, a top-up, then the payment's retry (same id): the retry is a
    new submission, written after the top-up whether or not a batch boundary fell between (in one
    batch it was judged by the first's refusal and never tried)."""
    account = "test_uk/com.test.customer/current/GBP/acc-1"
    assert (
        await asyncio.to_thread(main, ["--store", sqlite_ledger, "limit", "set", account, "--min", "-100"])
        == 0
    )
    same = uuid.uuid4()
    payment = transfer("150.00", 1727347200000, transaction_id=same).encode()  # below -100: refused
    top_up = transfer("100.00", 1727347200000, debit="acc-3", credit="acc-1").encode()
    first, between, retry, again = (0, payment), (1, top_up), (2, payment), (3, payment)
    script: list[dict[int, list[tuple[int, bytes | None]]]]
    script = [{0: [first]}, {0: [between, retry, again]}] if split else [{0: [first, between, retry, again]}]
    FakeConsumer.script = script
    error, consumer = await _ingest(sqlite_ledger, f"kafka://127.0.0.1:1/{TOPIC}?group=g&dead_letter=dead")
    assert error is None, error
    assert consumer.committed_at[TopicPartition(TOPIC, 0)] == 4
    assert await _stored(sqlite_ledger, same), "the retry after the top-up was not written"
    assert [topic for topic, _ in SizeCheckingProducer.sent] == ["dead"]  # the first only


@pytest.mark.parametrize("missing", ["topic", "dead_letter"])
async def test_a_topic_that_does_not_exist_is_named(
    fake_kafka: None, sqlite_ledger: str, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    """The source topic is found missing as the consumer starts, the dead-letter topic when the
    ingester looks it up in the cluster's topics at start (not at the first refusal)."""
    from aiokafka.errors import UnknownTopicOrPartitionError

    async def unknown(*args: Any, **kwargs: Any) -> None:
        raise UnknownTopicOrPartitionError()

    if missing == "topic":
        monkeypatch.setattr(FakeConsumer, "start", unknown)
    else:
        SizeCheckingProducer.topics = {TOPIC}
    FakeConsumer.script = [{0: [(0, b"not json")]}]
    error, _ = await _ingest(sqlite_ledger, f"kafka://127.0.0.1:1/{TOPIC}?group=g&dead_letter=dead")
    assert isinstance(error, ValidationError), f"{type(error).__name__}: {error}"
    assert missing in str(error) and ("'sets'" if missing == "topic" else "'dead'") in str(error)
