"""The broker the Kafka tests talk to (``make kafka-up``, or LEDGER_TEST_KAFKA), and fresh topics."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from ..support.stores import IN_CI

KAFKA_ENDPOINT = os.environ.get("LEDGER_TEST_KAFKA", "127.0.0.1:9092")


def unique_topic(prefix: str) -> str:
    """A topic name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def kafka_bootstrap() -> str:
    """The broker's address; a missing broker fails the test in CI and skips it elsewhere."""
    host, _, port = KAFKA_ENDPOINT.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        message = f"no Kafka broker answers on {KAFKA_ENDPOINT} (make kafka-up)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return KAFKA_ENDPOINT
