"""API keys on the HTTP API: every scope on every route, open and closed servers, rate limits,
and keys that never show up in a log, a response or the ledger."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.keys import ADMIN, POST, READ, KeyRecord, split_key
from ledger_tui.engine import Engine
from ledger_tui.engine.keys import MISS_TTL
from ledger_tui.server.app import create_app
from ledger_tui.server.auth import RateLimiter
from ledger_tui.server.settings import ServerSettings
from ledger_tui.store.base import Store

from ..support.stores import SAMPLE_JSON

#: The scope each documented route needs (a new route fails the test until it is listed here).
ROUTE_SCOPES = {
    ("POST", "/transactions"): POST,
    ("POST", "/transaction"): POST,
    ("POST", "/transactions/bulk"): POST,
    ("POST", "/transactions/{txid}/reversal"): ADMIN,
    ("GET", "/transactions/{txid}"): READ,
    ("GET", "/balance"): READ,
    ("GET", "/balances"): READ,
    ("GET", "/accounts"): READ,
    ("GET", "/entries"): READ,
    ("GET", "/changes"): READ,
    ("POST", "/transactions/{txid}/capture"): POST,
    ("POST", "/transactions/{txid}/void"): POST,
    ("GET", "/holds"): READ,
    ("GET", "/limits"): READ,
    ("PUT", "/limits"): ADMIN,
    ("GET", "/metrics"): READ,
    ("GET", "/health"): None,
}
#: Pages FastAPI serves beside the routes (the document and its viewers).
DOC_PAGES = ("/openapi.json", "/docs", "/redoc")


@pytest.fixture
def store_kind() -> str:
    """The embedded store: the guard is the server's (tests/contract/test_api_keys.py covers the
    keys on both stores)."""
    return "sqlite"


async def _client(engine: Engine, settings: ServerSettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(engine, settings), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://localhost")


@pytest.fixture
async def keyed(origin_engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of a loopback server and keys of every kind (a revoked one too)."""
    keys = {}
    for name, scopes in (("reader", {READ}), ("poster", {POST}), ("admin", {ADMIN}), ("gone", {ADMIN})):
        _, keys[name] = await origin_engine.keys().create(name, frozenset(scopes))
    await origin_engine.keys().revoke("gone")
    async with await _client(origin_engine, ServerSettings()) as client:
        yield client, keys


def _mistyped(key: str) -> str:
    return key[:-1] + ("1" if key.endswith("0") else "0")


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def _call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    path = path.replace("{txid}", str(uuid.uuid4()))
    body = SAMPLE_JSON.encode() if method == "POST" else None
    return await client.request(
        method, path, content=body, headers={"content-type": "application/json", **headers}
    )


async def test_the_route_table_covers_every_documented_route(
    keyed: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, keys = keyed
    document = (await client.get("/openapi.json", headers=_bearer(keys["reader"]))).json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == set(ROUTE_SCOPES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTE_SCOPES))
async def test_every_scope_on_every_route(
    keyed: tuple[httpx.AsyncClient, dict[str, str]], method: str, path: str
) -> None:
    client, keys = keyed
    needed = ROUTE_SCOPES[(method, path)]
    grants = {"reader": needed == READ, "poster": needed == POST, "admin": True}
    for name, granted in grants.items():
        answer = await _call(client, method, path, _bearer(keys[name]))
        if needed is None or granted:
            assert answer.status_code not in (401, 403), (name, answer.text)
        else:
            assert answer.status_code == 403, (name, answer.text)
            assert answer.json()["error"] == "forbidden" and needed in answer.json()["reason"]
    refused = [{}, _bearer(keys["gone"]), _bearer(_mistyped(keys["admin"])), {"authorization": "Basic eDp5"}]
    for headers in refused:
        answer = await _call(client, method, path, headers)
        if needed is None:
            assert answer.status_code == 200
        else:
            assert answer.status_code == 401, (headers, answer.text)
            assert answer.json()["error"] == "unauthorized"
            assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("page", DOC_PAGES)
async def test_the_document_needs_a_key_once_keys_exist(
    keyed: tuple[httpx.AsyncClient, dict[str, str]], page: str
) -> None:
    client, keys = keyed
    assert (await client.get(page)).status_code == 401
    assert (await client.get(page, headers=_bearer(keys["poster"]))).status_code == 403
    assert (await client.get(page, headers=_bearer(keys["reader"]))).status_code == 200


async def test_a_loopback_server_runs_open_until_the_first_key_exists(origin_engine: Engine) -> None:
    async with await _client(origin_engine, ServerSettings()) as client:
        assert (await client.get("/accounts")).status_code == 200
        assert (await _call(client, "POST", "/transactions", {})).status_code == 201
        _, key = await origin_engine.keys().create("first", frozenset({READ}))
        for _ in range(100):  # the server reads the keys again within a second
            if (await client.get("/accounts")).status_code == 401:
                break
            await asyncio.sleep(0.05)
        assert (await client.get("/accounts")).status_code == 401
        assert (await client.get("/accounts", headers=_bearer(key))).status_code == 200
        await origin_engine.keys().revoke("first")  # a revoked key still closes the server
        await asyncio.sleep(1.1)
        assert (await client.get("/accounts")).status_code == 401
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::"])
async def test_a_server_off_loopback_is_closed_even_with_no_key(origin_engine: Engine, host: str) -> None:
    async with await _client(origin_engine, ServerSettings(host=host)) as client:
        assert (await client.get("/health")).status_code == 200
        for method, path in ROUTE_SCOPES:
            if path != "/health":
                assert (await _call(client, method, path, {})).status_code == 401, path


async def test_a_new_key_works_at_once_and_a_revoked_one_stops_within_a_second(origin_engine: Engine) -> None:
    await origin_engine.keys().create("early", frozenset({READ}))
    async with await _client(origin_engine, ServerSettings()) as client:
        assert (await client.get("/accounts")).status_code == 401  # the cache is warm now
        _, key = await origin_engine.keys().create("late", frozenset({READ}))
        await asyncio.sleep(MISS_TTL)  # an unknown key makes the server read the keys again
        assert (await client.get("/accounts", headers=_bearer(key))).status_code == 200
        await origin_engine.keys().revoke("late")
        await asyncio.sleep(1.1)
        assert (await client.get("/accounts", headers=_bearer(key))).status_code == 401


async def test_over_its_rate_a_key_gets_429_with_retry_after(origin_engine: Engine) -> None:
    _, slow = await origin_engine.keys().create("slow", frozenset({READ}), rate_limit=3)
    _, other = await origin_engine.keys().create("other", frozenset({READ}))
    async with await _client(origin_engine, ServerSettings(rate_limit=1000)) as client:
        answers = [await client.get("/accounts", headers=_bearer(slow)) for _ in range(6)]
        statuses = [a.status_code for a in answers]
        assert statuses.count(200) >= 3 and 429 in statuses
        refused = answers[statuses.index(429)]
        assert refused.json()["error"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
        assert (
            await client.get("/accounts", headers=_bearer(other))
        ).status_code == 200  # buckets are per key


def test_the_token_bucket_refills_at_the_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(default=4, clock=lambda: now[0])
    record = KeyRecord("a" * 12, "k", frozenset({READ}), "x", created_at=None, rate_limit=None)  # type: ignore[arg-type]
    assert [limiter.wait(record) for _ in range(5)][:4] == [0.0] * 4
    assert limiter.wait(record) == pytest.approx(0.25)
    now[0] += 0.25
    assert limiter.wait(record) == 0.0 and limiter.wait(record) > 0
    now[0] += 10  # idle time refills a second's worth, no more
    assert [limiter.wait(record) for _ in range(5)].count(0.0) == 4
    assert RateLimiter(default=None).wait(record) == 0.0
    assert RateLimiter(default=None).wait(replace(record, rate_limit=1)) == 0.0


async def test_keys_never_reach_a_log_a_response_or_the_ledger(
    keyed: tuple[httpx.AsyncClient, dict[str, str]], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    client, keys = keyed
    caplog.set_level(logging.DEBUG)
    texts = []
    for key in keys.values():
        for method, path in ROUTE_SCOPES:
            texts.append((await _call(client, method, path, _bearer(key))).text)
        texts.append((await client.get("/metrics", headers=_bearer(key))).text)
    settings = await store.read_settings()
    for key in keys.values():
        _, secret = split_key(key) or ("", "")
        assert secret and all(secret not in text for text in texts)
        assert all(secret not in record.getMessage() for record in caplog.records)
        assert all(secret not in value for value in settings.values())


@pytest.mark.parametrize(
    ("host", "status"),
    [("localhost:8080", 200), ("127.0.0.1", 200), ("[::1]:8080", 200), (None, 200),
     ("rebind.evil.example:8080", 403), ("10.0.0.5", 403)],
)  # fmt: skip
async def test_an_open_server_answers_only_calls_that_name_this_machine(
    origin_engine: Engine, host: str | None, status: int
) -> None:
    app = create_app(origin_engine, ServerSettings())
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))  # type: ignore[call-overload]

    headers = [] if host is None else [(b"host", host.encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/accounts", "raw_path": b"/accounts", "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080)}  # fmt: skip
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert statuses == [status]  # a page whose name was made to resolve here (DNS rebinding): refused


async def test_a_name_that_looks_like_a_key_id_is_refused(origin_engine: Engine) -> None:
    record, _ = await origin_engine.keys().create("admin", frozenset({ADMIN}))
    with pytest.raises(ValidationError, match="must not look like a key id"):
        await origin_engine.keys().create(record.key_id, frozenset({READ}))


async def test_a_path_cannot_forge_an_access_log_line(
    keyed: tuple[httpx.AsyncClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, keys = keyed
    caplog.set_level(logging.INFO, logger="ledger_tui.server.access")
    await client.get("/balance%0A2026-01-01%20INJECTED%5Cx", headers=_bearer(keys["reader"]))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ledger_tui.server.access"]
    assert "\n" not in line and "/balance\\n2026-01-01 INJECTED\\\\x" in line
