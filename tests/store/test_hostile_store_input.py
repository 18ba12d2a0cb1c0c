"""Hostile store URLs and driver refusals: ASCII numbers and names only, and refused credentials read as access denied."""

from __future__ import annotations

import pytest
from cassandra import AuthenticationFailed, OperationTimedOut, Unauthorized, UnresolvableContactPoints
from cassandra.cluster import NoHostAvailable

from ledger_tui.domain.errors import AccessDenied, StoreUnavailable, ValidationError
from ledger_tui.store.cassandra.errors import failure
from ledger_tui.store.url import parse_store_url


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("cassandra://h:٩٠٤٢/ks", "store.port"),
        ("cassandra://h/ks?timeout=١٠", "store.timeout"),
        ("cassandra://h/ks?replication=٢", "store.replication"),
        ("cassandra://h/ks?dc=dc1%0A", "store.dc"),
        ("cassandra://h,b\u202ed/ks", "store.hosts"),
        ("sqlite:x.db?busy_timeout=٥", "store.busy_timeout"),
        ("sqlite:x.db?journal=off", "store"),
    ],
)
def test_store_url_numbers_and_names_are_ascii(url: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_store_url(url)
    assert caught.value.problems[0].field == field


def test_store_urls_take_bracketed_ipv6_and_a_busy_timeout() -> None:
    url = parse_store_url("cassandra://[::1]:9/ks")
    assert url.hosts == ("::1",) and url.port == 9  # type: ignore[union-attr]
    assert parse_store_url("sqlite:x.db?busy_timeout=30").busy_timeout_s == 30  # type: ignore[union-attr]
    assert parse_store_url("sqlite:x.db").busy_timeout_s == 5  # type: ignore[union-attr]


def test_refused_credentials_map_to_access_denied_not_unavailable() -> None:
    refused = AuthenticationFailed("Provided username cassandra and/or password are incorrect")
    assert isinstance(failure(refused), AccessDenied)
    everywhere = NoHostAvailable("Unable to connect to any servers", {"127.0.0.1:9042": refused})
    denied = failure(everywhere)
    assert isinstance(denied, AccessDenied) and "refused the credentials" in str(denied)
    assert isinstance(failure(Unauthorized("User x has no SELECT permission")), AccessDenied)
    mixed = NoHostAvailable("Unable to connect", {"a": refused, "b": OperationTimedOut("timed out")})
    assert type(failure(mixed)) is StoreUnavailable  # one host may come back: retry is right
    assert type(failure(UnresolvableContactPoints({}))) is StoreUnavailable
    assert type(failure(OperationTimedOut("timed out"))) is StoreUnavailable
