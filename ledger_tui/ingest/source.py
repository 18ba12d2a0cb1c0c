"""Where an ingester reads: a ``kafka://`` URL and the entry set each message carries.

Why ids derived from topic, partition and offset: a message without ``transaction_id`` must
mean the same set however often it is read (after a crash, a rebalance or a broker restart),
so reading it again is a no-op and never a second set.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..domain.document import MAX_DOCUMENT_BYTES, loads_document
from ..domain.errors import ValidationError
from ..domain.model import EntrySet
from ..domain.money import Currencies
from ..domain.parse import entry_set_from_data
from ..domain.text import shown

DEFAULT_PORT = 9092
#: Most messages read and written together (one bulk write: claims share consensus rounds).
BATCH = 5000
#: Kafka's own rule for topic and group names (letters, digits, '.', '_', '-'; at most 249).
_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
#: How long the group waits for a member that stopped heartbeating before its partitions move:
#: aiokafka's default, and the bounds a URL may set (a broker also enforces its own,
#: group.min.session.timeout.ms and group.max.session.timeout.ms: 6 s and 30 min by default).
SESSION_TIMEOUT_MS, SESSION_TIMEOUT_RANGE = 10_000, (1_000, 1_800_000)
#: The namespace of ids derived for messages without one (fixed: ids must never change).
MESSAGE_IDS = uuid.UUID("6f1c4d52-8a0e-4b7c-9f53-2d1e0c9a7b31")


@dataclass(frozen=True, slots=True)
class KafkaSource:
    """A topic to ingest, the consumer group that shares it, and where refused messages go."""

    bootstrap: tuple[str, ...]
    topic: str
    group: str
    dead_letter: str | None = None
    session_timeout_ms: int = SESSION_TIMEOUT_MS

    @property
    def heartbeat_interval_ms(self) -> int:
        """A third of the session timeout, as Kafka advises (a member misses two before it is out)."""
        return self.session_timeout_ms // 3

    def __str__(self) -> str:
        extra = f"&dead_letter={self.dead_letter}" if self.dead_letter else ""
        if self.session_timeout_ms != SESSION_TIMEOUT_MS:
            extra += f"&session_timeout_ms={self.session_timeout_ms}"
        return f"kafka://{','.join(self.bootstrap)}/{self.topic}?group={self.group}{extra}"


def _bad(reason: str) -> ValidationError:
    return ValidationError.single("url", reason)


def parse_topic_url(text: str, known: tuple[str, ...]) -> tuple[tuple[str, ...], str, dict[str, str]]:
    """Brokers, topic and parameters of ``kafka://HOST[:PORT][,HOST[:PORT]]/TOPIC[?...]`` (port 9092
    unless given; a port after the last host applies to hosts without one)."""
    parts = urlsplit(text)
    if parts.scheme != "kafka":
        raise _bad(f"{shown(text)} is not a kafka:// URL")
    hosts = [h for h in parts.netloc.split(",")]
    if not parts.netloc or not all(hosts):
        raise _bad("names no broker (kafka://HOST[:PORT]/TOPIC)")
    last_port = hosts[-1].rpartition(":")[2] if re.search(r":[0-9]+$", hosts[-1]) else str(DEFAULT_PORT)
    bootstrap = []
    for host in hosts:
        name, port = host.rsplit(":", 1) if re.search(r":[0-9]+$", host) else (host, last_port)
        if not _HOST.fullmatch(name) or len(port) > 5 or not 0 < int(port) < 65536:
            raise _bad(f"{shown(host)} is not a broker address (HOST or HOST:PORT)")
        bootstrap.append(f"{name}:{int(port)}")
    topic = unquote(parts.path.lstrip("/"))
    if not _NAME.fullmatch(topic):
        raise _bad("needs one topic after the broker: letters, digits, '.', '_' or '-'")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - set(known))
    if unknown:
        raise _bad(f"unknown parameter {shown(unknown[0])} ({', '.join(known) or 'none taken'})")
    if any(len(values) > 1 for values in query.values()):
        raise _bad("gives a parameter twice")
    return tuple(bootstrap), topic, {name: values[0] for name, values in query.items()}


def parse_kafka_url(text: str) -> KafkaSource:
    """``kafka://HOST[:PORT][,HOST[:PORT]]/TOPIC?group=NAME[&dead_letter=TOPIC][&session_timeout_ms=N]``."""
    bootstrap, topic, query = parse_topic_url(text, ("group", "dead_letter", "session_timeout_ms"))
    group = query.get("group", "")
    if not _NAME.fullmatch(group):
        raise _bad("needs ?group=NAME: the consumer group (letters, digits, '.', '_' or '-')")
    dead_letter = query.get("dead_letter")
    if dead_letter is not None and (not _NAME.fullmatch(dead_letter) or dead_letter == topic):
        raise _bad("dead_letter must be another topic's name (letters, digits, '.', '_' or '-')")
    return KafkaSource(bootstrap, topic, group, dead_letter, _session_timeout(query))


def _session_timeout(query: dict[str, str]) -> int:
    """The ``session_timeout_ms`` a URL asks for: how soon a dead member's partitions move on."""
    text = query.get("session_timeout_ms")
    if text is None:
        return SESSION_TIMEOUT_MS
    low, high = SESSION_TIMEOUT_RANGE
    if not re.fullmatch(r"[0-9]{1,7}", text) or not low <= int(text) <= high:
        raise _bad(f"session_timeout_ms must be a whole number of milliseconds from {low:,} to {high:,}")
    return int(text)


def message_id(topic: str, partition: int, offset: int) -> uuid.UUID:
    """The id of a message's set when the message names none: the same on every read."""
    return uuid.uuid5(MESSAGE_IDS, f"{topic}/{partition}/{offset}")


def entry_set_of(message: Any, currencies: Currencies) -> EntrySet:
    """The entry set a Kafka message carries (the origin's JSON), or a ValidationError saying why not."""
    return entry_set_from_value(message.value, message.topic, message.partition, message.offset, currencies)


def entry_set_from_value(
    value: bytes | None, topic: str, partition: int, offset: int, currencies: Currencies
) -> EntrySet:
    """The entry set of a message's value read at ``topic``/``partition``/``offset`` (the place
    names the set when the value names no ``transaction_id``), or a ValidationError saying why not."""
    if value is None:
        raise ValidationError.single("", "the message has no value (a tombstone)")
    if len(value) > MAX_DOCUMENT_BYTES:
        raise ValidationError.single("", f"the message is larger than {MAX_DOCUMENT_BYTES} bytes")
    data = loads_document(value)  # text the set keeps is checked as every face checks it (legs.py)
    if isinstance(data, dict) and data.get("transaction_id") is None:
        data["transaction_id"] = str(message_id(topic, partition, offset))
    return entry_set_from_data(data, currencies)
