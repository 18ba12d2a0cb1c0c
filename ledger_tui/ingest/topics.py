"""Whether a Kafka topic exists, asked of the cluster's whole metadata (ingest and publish).

Why the whole metadata: asking for one topic may create it (``auto.create.topics.enable``), and
aiokafka's own wait for a missing topic retries for its whole request timeout, logging each retry.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import UnknownTopicOrPartitionError

#: Looks at the cluster's topics before a topic is called missing, and seconds between: a topic
#: created a moment ago may be missing from one broker's answer.
TOPIC_LOOKUPS, TOPIC_LOOKUP_PAUSE = 4, 0.5


async def topic_known(producer: AIOKafkaProducer, topic: str) -> None:
    """Raise UnknownTopicOrPartitionError unless the cluster's metadata lists ``topic``."""
    for attempt in range(TOPIC_LOOKUPS):
        if topic in (await producer.client.fetch_all_metadata()).topics():
            return
        if attempt + 1 < TOPIC_LOOKUPS:
            await asyncio.sleep(TOPIC_LOOKUP_PAUSE)
    raise UnknownTopicOrPartitionError(topic)
