"""The ingester's kafka:// URL: each parameter read as written, and a bad one refused by name."""

from __future__ import annotations

import pytest

from ledger_tui.domain.errors import ValidationError
from ledger_tui.ingest.source import SESSION_TIMEOUT_MS, parse_kafka_url


def test_a_url_names_brokers_topic_group_and_dead_letter_topic() -> None:
    source = parse_kafka_url("kafka://a,b:9093/sets?group=g&dead_letter=sets.dead")
    assert source.bootstrap == ("a:9093", "b:9093")
    assert (source.topic, source.group, source.dead_letter) == ("sets", "g", "sets.dead")
    assert source.session_timeout_ms == SESSION_TIMEOUT_MS
    assert parse_kafka_url(str(source)) == source


def test_a_session_timeout_sets_the_heartbeat_to_a_third_of_it() -> None:
    source = parse_kafka_url("kafka://a/sets?group=g&session_timeout_ms=3000")
    assert (source.session_timeout_ms, source.heartbeat_interval_ms) == (3000, 1000)
    assert "session_timeout_ms=3000" in str(source) and parse_kafka_url(str(source)) == source


@pytest.mark.parametrize("value", ["999", "1800001", "3s", "", "-5", "1e4", "99999999999"])
def test_a_session_timeout_out_of_range_or_not_a_number_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_kafka_url(f"kafka://a/sets?group=g&session_timeout_ms={value}")
    assert caught.value.problems[0].field == "url"
    assert "session_timeout_ms must be a whole number of milliseconds" in str(caught.value)
