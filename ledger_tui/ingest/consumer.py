"""Ingest entry sets from a Kafka topic through the engine's bulk path, committing a partition's
offsets only once every set before them is durable.

Why this order (read a batch, write its sets, send refused messages to the dead-letter topic and
wait for the broker's acks, then commit): a crash, kill -9, broker restart or rebalance at any
point makes the group read again from the last commit, and the sets' ids make a repeat a no-op.
So work may repeat; a set is never lost and never written twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    InvalidSessionTimeoutError,
    KafkaConnectionError,
    KafkaError,
    UnknownTopicOrPartitionError,
)
from aiokafka.structs import OffsetAndMetadata

from ..domain.errors import BrokerUnavailable, LedgerError, ValidationError
from .sets import BatchWork, SetWriter, item_of
from .source import BATCH, KafkaSource
from .topics import topic_known

log = logging.getLogger("ledger_tui.ingest")
#: Seconds between measures of the consumer lag while messages keep coming.
LAG_EVERY = 1.0
#: Seconds between attempts to commit offsets the broker could not take.
COMMIT_RETRY = 0.5
#: Seconds an ingester keeps trying to commit (a broker restart takes a few) before it gives up.
COMMIT_PATIENCE = 120.0
#: Seconds a lag measure may take (it is only a progress figure).
LAG_PATIENCE = 10.0
#: Bytes of the largest message sent to the dead-letter topic (a refused message is sent as it
#: came, whatever its size: this is the broker's default largest request, socket.request.max.bytes).
MAX_DEAD_LETTER = 100 * 1024 * 1024


class IngestStopped(LedgerError):
    """A message was refused and there is no dead-letter topic: ingestion stopped before it."""


@dataclass(slots=True)
class IngestProgress:
    """What an ingester has done so far."""

    sets: int = 0
    repeats: int = 0
    dead_lettered: int = 0
    lag: int | None = None
    started: float = field(default_factory=time.monotonic)
    #: When the first and the latest batch were written (monotonic seconds; None before any).
    first_write: float | None = None
    last_write: float | None = None

    @property
    def rate(self) -> float:
        """Sets written per second since the start."""
        return self.sets / max(time.monotonic() - self.started, 1e-9)


@dataclass(slots=True)
class _Refused:
    message: Any
    reason: str


Offsets = dict[TopicPartition, int]


@dataclass(slots=True)
class _Batch:
    """One batch in hand: its messages, where its writing stands, and its task (commit included)."""

    messages: list[Any]
    offsets: Offsets
    work: BatchWork
    #: Set once its writing is over (written, failed, or given up: then ``halts`` is true).
    written: asyncio.Event = field(default_factory=asyncio.Event)
    #: Nothing after it may be written: it failed, or stopped at a refused message.
    halts: bool = False
    task: asyncio.Task[None] = field(init=False)


class _Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Knows whether the group has given this member its share yet (possibly none)."""

    def __init__(self) -> None:
        self.joined = False

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.joined = True
        log.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))


class Ingester:
    """One member of a consumer group writing the sets of its partitions into the ledger."""

    def __init__(
        self,
        writer: SetWriter,
        source: KafkaSource,
        *,
        batch: int = BATCH,
        depth: int = 2,
        on_progress: Callable[[IngestProgress], None] | None = None,
    ) -> None:
        #: ``depth``: batches in hand at once (one writes while the next is fetched and parsed).
        self.writer, self.source, self.batch, self.depth = writer, source, batch, depth
        self.progress = IngestProgress()
        self._on_progress = on_progress or (lambda progress: None)
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

    def stop(self) -> None:
        """Finish the batches in hand, commit them, and return (SIGTERM, Ctrl-C)."""
        self._stopping.set()

    async def run(self, *, stop_when_idle: bool = False) -> IngestProgress:
        """Ingest until stopped (or, with ``stop_when_idle``, until every partition is caught up)."""
        servers = list(self.source.bootstrap)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=servers, group_id=self.source.group, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=self.batch, isolation_level="read_committed",
            session_timeout_ms=self.source.session_timeout_ms,
            heartbeat_interval_ms=self.source.heartbeat_interval_ms,
        )  # fmt: skip
        membership = _Membership()
        consumer.subscribe([self.source.topic], listener=membership)
        producer = None
        if self.source.dead_letter is not None:
            producer = AIOKafkaProducer(
                bootstrap_servers=servers,
                enable_idempotence=True,
                acks="all",
                max_request_size=MAX_DEAD_LETTER,
            )
        topic = self.source.topic
        try:
            await consumer.start()
            if producer is not None:
                await producer.start()
                topic = self.source.dead_letter or ""
                await topic_known(producer, topic)  # a missing topic now, not at a refusal
        except KafkaConnectionError as error:
            await _quietly_stop(consumer, producer)
            raise BrokerUnavailable(f"cannot reach the Kafka broker {','.join(servers)}: {error}") from None
        except UnknownTopicOrPartitionError:
            await _quietly_stop(consumer, producer)
            field = "topic" if topic == self.source.topic else "dead_letter"
            raise ValidationError.single(
                field, f"no topic {topic!r} on the Kafka broker {','.join(servers)} (create it first)"
            ) from None
        except InvalidSessionTimeoutError:
            await _quietly_stop(consumer, producer)
            raise ValidationError.single(
                "session_timeout_ms",
                f"the Kafka broker refuses {self.source.session_timeout_ms:,} ms: outside its "
                "group.min.session.timeout.ms and group.max.session.timeout.ms",
            ) from None
        except KafkaError as error:
            await _quietly_stop(consumer, producer)
            raise BrokerUnavailable(
                f"the Kafka broker refused to start ({type(error).__name__}): {error}"
            ) from None
        self._consumer, self._producer = consumer, producer
        # Batches in hand: each is written only after the one before it was (and only if that one
        # let writing go on), and committed only after the one before it was committed.
        writing: deque[_Batch] = deque()
        try:
            await self.writer.ready()  # while the group is joined
            measured = 0.0
            while not self._stopping.is_set():
                got = await consumer.getmany(timeout_ms=500, max_records=self.batch)
                self.writer.check()
                while writing and (writing[0].task.done() or (got and len(writing) >= self.depth)):
                    await writing.popleft().task  # surfaces its error, in order
                if got:  # parsed and written while the next batch is fetched
                    writing.append(self._start(got, writing[-1] if writing else None))
                if not got or time.monotonic() - measured > LAG_EVERY:
                    await self._measure_lag()
                    measured = time.monotonic()
                    self._on_progress(self.progress)
                idle = not writing and not got and membership.joined and self.progress.lag == 0
                if stop_when_idle and idle:
                    break
            while writing:
                await writing.popleft().task  # stopping: finished and committed
        finally:
            tasks = [b.task for b in writing]
            if tasks:  # an error above: let started batches finish whole (their errors are that one)
                await asyncio.wait(tasks)
                for task in tasks:
                    task.cancelled() or task.exception()
            await _quietly_stop(consumer, producer)
        return self.progress

    def _start(self, got: dict[TopicPartition, list[Any]], before: _Batch | None) -> _Batch:
        messages = [message for batch in got.values() for message in batch]
        offsets = {tp: batch[-1].offset + 1 for tp, batch in got.items() if batch}
        batch = _Batch(messages, offsets, BatchWork([item_of(m) for m in messages]))
        batch.task = asyncio.ensure_future(self._handle(batch, before))
        return batch

    async def _handle(self, batch: _Batch, before: _Batch | None) -> None:
        """Parse a batch, write it once the one ``before`` is written, judge every message, send
        the refused ones to the dead-letter topic, then (once ``before`` is committed) commit."""
        hold = self._producer is None  # nothing past a refused message may be written
        try:
            await batch.work.parse(self.writer)
            if before is not None:
                await before.written.wait()
                if before.halts:  # its error (or its refused message) stops the ingester
                    batch.halts = True
                    return
            if self.progress.first_write is None:
                self.progress.first_write = time.monotonic()
            await batch.work.write(self.writer, hold_after_refused=hold)
            self.progress.last_write = time.monotonic()
            refused = [
                _Refused(message, outcome.reason)
                for message, outcome in zip(batch.messages, batch.work.outcomes, strict=True)
                if outcome.kind in ("refused", "conflicting")
            ]
            batch.halts = hold and bool(refused)
        except BaseException:
            batch.halts = True
            raise
        finally:
            batch.written.set()
        for outcome in batch.work.outcomes:
            self.progress.sets += outcome.kind == "new"
            self.progress.repeats += outcome.kind == "duplicate"
        if before is not None:
            await before.task  # its failure is this batch's too: nothing committed out of order
        offsets = batch.offsets
        if refused:
            offsets = await self._refuse(refused, offsets)
        await self._commit(offsets)

    async def _refuse(self, refused: list[_Refused], offsets: Offsets) -> Offsets:
        """Send refused messages to the dead-letter topic (and wait for the acks); with none,
        commit only up to the first refused message of each partition and stop with its reason."""
        if self._producer is None:
            first = min(refused, key=lambda r: (r.message.partition, r.message.offset))
            for item in refused:
                tp = TopicPartition(item.message.topic, item.message.partition)
                offsets[tp] = min(offsets[tp], item.message.offset)
            await self._commit(offsets)
            message = first.message
            raise IngestStopped(
                f"{message.topic} partition {message.partition} offset {message.offset}: {first.reason} "
                "(no dead_letter topic: ingestion stopped here; offsets before it are committed)"
            )
        sends = []
        for item in refused:
            message = item.message
            headers = [
                ("ledger.error", item.reason.encode()),
                ("ledger.topic", message.topic.encode()),
                ("ledger.partition", str(message.partition).encode()),
                ("ledger.offset", str(message.offset).encode()),
            ]
            try:
                sends.append(await self._producer.send(
                    self.source.dead_letter or "", message.value, key=message.key, headers=headers
                ))  # fmt: skip
            except KafkaError as error:
                raise _not_dead_lettered(message, error) from None
        for item, send in zip(refused, sends, strict=True):
            message = item.message
            try:
                await send
            except KafkaError as error:
                raise _not_dead_lettered(message, error) from None
            log.warning(
                "dead-lettered %s/%d@%d: %s", message.topic, message.partition, message.offset, item.reason
            )
        self.progress.dead_lettered += len(refused)
        return offsets

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit, retrying while the broker cannot take it (for COMMIT_PATIENCE seconds); a
        partition a rebalance took is its new owner's to commit."""
        assert self._consumer is not None
        assigned = self._consumer.assignment()
        mine = {tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items() if tp in assigned}
        deadline = time.monotonic() + COMMIT_PATIENCE
        while mine:
            try:
                async with asyncio.timeout(COMMIT_PATIENCE):
                    await self._consumer.commit(mine)
                return
            except CommitFailedError:  # a rebalance took the partitions: their new owner repeats
                log.info("offsets not committed: the group rebalanced (the next owner repeats them)")
                return
            except (KafkaError, TimeoutError) as error:
                retriable = isinstance(error, TimeoutError) or getattr(error, "retriable", False)
                if not retriable or time.monotonic() > deadline:
                    raise BrokerUnavailable(
                        f"cannot commit offsets ({type(error).__name__}); the sets are written, "
                        "and the next run repeats them as no-ops"
                    ) from None
                log.warning("commit failed (%s); retrying", type(error).__name__)
                await asyncio.sleep(COMMIT_RETRY)

    async def _measure_lag(self) -> None:
        """The group's lag over every partition of the topic: messages past its committed offsets
        (a partition a dead member still holds counts until the group hands it on)."""
        assert self._consumer is not None
        numbers = self._consumer.partitions_for_topic(self.source.topic)
        if not numbers:
            self.progress.lag = None
            return
        partitions = [TopicPartition(self.source.topic, n) for n in sorted(numbers)]
        try:
            async with asyncio.timeout(LAG_PATIENCE):
                ends = await self._consumer.end_offsets(partitions)
                starts = await self._consumer.beginning_offsets(partitions)
                lag = 0
                for tp in partitions:
                    committed = await self._consumer.committed(tp)
                    lag += max(ends[tp] - (starts[tp] if committed is None else committed), 0)
            self.progress.lag = lag
        except (KafkaError, TimeoutError):
            self.progress.lag = None


def _not_dead_lettered(message: Any, error: KafkaError) -> BrokerUnavailable:
    """Why a refused message could not be sent to the dead-letter topic (ingestion stops before
    it: nothing past it is committed)."""
    size = len(message.value or b"")
    return BrokerUnavailable(
        f"cannot send {message.topic} partition {message.partition} offset {message.offset} ({size} bytes) "
        f"to the dead-letter topic: {type(error).__name__} (a topic's max.message.bytes must take it)"
    )


async def _quietly_stop(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer | None) -> None:
    for client in (consumer, producer):
        if client is not None:
            try:
                await client.stop()
            except KafkaError as error:
                log.warning("closing the Kafka client: %s", error)
