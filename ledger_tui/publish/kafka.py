"""The Kafka sink: each event to a topic through an idempotent producer (acks from every in-sync
replica), keyed by its transaction id, so a set's events keep their order in one partition.

A page is delivered once the broker acknowledged every event; what it refuses is sent again (with
backoff, until the publisher stops), which may repeat an event: consumers drop repeats by
``event_id`` (the ``ledger.event_id`` header and the value's field).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from ..domain.changes import Change
from ..domain.errors import BrokerUnavailable
from ..ingest.source import parse_topic_url
from ..ingest.topics import topic_known
from .relay import PublishStopped

#: Most events sent before waiting for their acks (a page is at most this many at once).
IN_FLIGHT = 1000


@dataclass(frozen=True, slots=True)
class KafkaTarget:
    """The brokers and the topic events go to."""

    bootstrap: tuple[str, ...]
    topic: str

    def __str__(self) -> str:
        return f"kafka://{','.join(self.bootstrap)}/{self.topic}"


def parse_kafka_target(text: str) -> KafkaTarget:
    """``kafka://HOST[:PORT][,HOST[:PORT]]/TOPIC`` (port 9092 unless given)."""
    bootstrap, topic, _ = parse_topic_url(text, ())
    return KafkaTarget(bootstrap, topic)


def record_of(change: Change) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of an event's Kafka record."""
    value = json.dumps(change.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
    headers = [
        ("ledger.event_id", str(change.event_id).encode()),
        ("ledger.type", change.kind.value.encode()),
    ]
    return str(change.transaction.transaction_id).encode(), value, headers


class KafkaSink:
    """Sends pages of events to one topic and returns once the broker acknowledged them all."""

    def __init__(self, target: KafkaTarget, *, first_backoff: float = 0.2, max_backoff: float = 10.0) -> None:
        self.target = target
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()

    def describe(self) -> str:
        return str(self.target)

    async def start(self) -> None:
        servers = list(self.target.bootstrap)
        producer = AIOKafkaProducer(
            bootstrap_servers=servers, enable_idempotence=True, acks="all", linger_ms=5,
            max_batch_size=1 << 20, request_timeout_ms=15_000,
        )  # fmt: skip
        try:
            await producer.start()
            await topic_known(producer, self.target.topic)  # at once, not after aiokafka's retries
            partitions = await asyncio.wait_for(producer.partitions_for(self.target.topic), 20)
        except (KafkaConnectionError, KafkaError, TimeoutError) as error:
            await _quietly_stop(producer)
            if isinstance(error, KafkaConnectionError):
                raise BrokerUnavailable(
                    f"cannot reach the Kafka broker {','.join(servers)}: {error}"
                ) from None
            raise BrokerUnavailable(
                f"topic {self.target.topic} is not available on {','.join(servers)} "
                f"(create it first; {type(error).__name__})"
            ) from None
        if not partitions:
            await _quietly_stop(producer)
            raise BrokerUnavailable(f"topic {self.target.topic} has no partitions")
        self._producer = producer

    def stop(self) -> None:
        self._stopping.set()

    async def send(self, changes: list[Change]) -> None:
        pending = [record_of(change) for change in changes]
        delay = self._first_backoff
        while pending:
            failed = []
            for start in range(0, len(pending), IN_FLIGHT):
                chunk = pending[start : start + IN_FLIGHT]
                acks = await asyncio.gather(*(self._send(record) for record in chunk), return_exceptions=True)
                failed += [
                    record for record, ack in zip(chunk, acks, strict=True) if isinstance(ack, BaseException)
                ]
            pending = failed
            if pending:
                if self._stopping.is_set():
                    raise PublishStopped("stopped while the broker refused events; they are sent next run")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay * (0.5 + random.random()))
                delay = min(delay * 2, self._max_backoff)

    async def _send(self, record: tuple[bytes, bytes, list[tuple[str, bytes]]]) -> Any:
        assert self._producer is not None
        key, value, headers = record
        ack = await self._producer.send(self.target.topic, value, key=key, headers=headers)
        return await ack

    async def close(self) -> None:
        if self._producer is not None:
            await _quietly_stop(self._producer)
            self._producer = None


async def _quietly_stop(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(KafkaError):
        await producer.stop()
