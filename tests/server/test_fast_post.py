"""The ASGI fast path for ``POST /transactions`` answers exactly as the FastAPI route it bypasses.

Two apps over two identical ledgers (same clock): one as served, one with the fast path taken
out so every post goes through FastAPI's routing. Every request gets the same status, headers
and body bytes from both, and the counters end equal.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.engine import Engine
from ledger_tui.server.app import create_app
from ledger_tui.server.fast_post import PATHS
from ledger_tui.server.middleware import RequestGuard
from ledger_tui.server.settings import ServerSettings
from ledger_tui.store.sqlite import SqliteStore

from ..support.stores import SAMPLE_JSON, FixedClock

SMALL = ServerSettings(max_body=4096, max_bulk_body=8192)
TXID = "6a1f0f7e-3c55-4bb0-9d7a-3c1b2a4e5f60"


class Pair:
    """The served app and the routed-only app, each over its own fresh SQLite ledger."""

    def __init__(self, fast: httpx.AsyncClient, routed: httpx.AsyncClient) -> None:
        self.fast, self.routed = fast, routed

    async def same(self, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        """Post to both; assert equal answers; return the fast path's."""
        fast = await self.fast.post(path, content=content, headers=headers)
        routed = await self.routed.post(path, content=content, headers=headers)
        assert (fast.status_code, fast.content) == (routed.status_code, routed.content)
        assert sorted(fast.headers.items()) == sorted(routed.headers.items())
        return fast


async def _client(directory: Path, fast: bool) -> tuple[httpx.AsyncClient, Engine]:
    directory.mkdir()
    engine = Engine(
        SqliteStore(directory / "ledger.sqlite"), clock=FixedClock(datetime(2024, 11, 5, 9, 30, tzinfo=UTC))
    )
    await engine.connect()
    await engine.apply_schema()
    app = create_app(engine, SMALL)
    if fast:  # the routed app behind the fast path must never see a post: prove the path is taken
        fast_path = app.front.app.app  # type: ignore[attr-defined]  # guard -> key guard -> fast path
        fast_path.app = _refusing_posts(fast_path.app)
    else:
        app.front = RequestGuard(app.routed, SMALL, app.state.metrics)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://localhost"), engine


def _refusing_posts(routed: Any) -> Any:
    async def guard(scope: dict[str, Any], receive: Any, send: Any) -> None:
        is_post = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in PATHS
        assert not is_post, "a post reached FastAPI's routing behind the fast path"
        await routed(scope, receive, send)

    return guard


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    fast, fast_engine = await _client(tmp_path / "fast", True)
    routed, routed_engine = await _client(tmp_path / "routed", False)
    yield Pair(fast, routed)
    for client, engine in ((fast, fast_engine), (routed, routed_engine)):
        await client.aclose()
        await engine.close()


def _body(**changes: Any) -> bytes:
    data = json.loads(SAMPLE_JSON)
    data.update(changes)
    return json.dumps(data).encode()


JSON = {"content-type": "application/json"}


async def test_every_kind_of_answer_is_the_same_on_both_paths(pair: Pair) -> None:
    other = json.loads(SAMPLE_JSON)
    other["entries"][0]["amount"] = other["entries"][1]["amount"] = 101
    steps: list[tuple[str, bytes, dict[str, str], int]] = [
        ("/transactions", _body(transaction_id=TXID), JSON, 201),
        ("/transactions", _body(transaction_id=TXID), JSON, 200),  # a retry: the original receipt
        ("/transaction", json.dumps({**other, "transaction_id": TXID}).encode(), JSON, 409),
        ("/transactions", _body(), {**JSON, "Idempotency-Key": "order-1"}, 201),
        ("/transactions", _body(), {**JSON, "idempotency-key": "order-1"}, 200),
        ("/transactions", json.dumps(other).encode(), {**JSON, "Idempotency-Key": "order-1"}, 409),
        ("/transactions", _body(), {**JSON, "Idempotency-Key": "has space"}, 400),
        ("/transactions", _body(), {**JSON, "Idempotency-Key": "k" * 256}, 400),
        ("/transactions", b"{not json", JSON, 400),
        ("/transactions", b"", JSON, 400),
        ("/transactions", b"[1, 2]", JSON, 400),
        ("/transactions", _body(entries=[]), JSON, 400),
        ("/transactions", _body(transaction_id="nope"), JSON, 400),
        ("/transactions", _body(), {"content-type": "text/plain"}, 415),
        ("/transactions", _body(), {}, 415),
        (
            "/transactions",
            _body(transaction_id=TXID.replace("6a", "7a")),
            {"content-type": "application/json; charset=utf-8"},
            201,
        ),
        (
            "/transactions",
            _body(transaction_id=TXID.replace("6a", "8a")),
            {"content-type": "application/ld+json"},
            201,
        ),
        ("/transactions", b"{" + b" " * 5000 + b"}", JSON, 413),
    ]
    unbalanced = json.loads(SAMPLE_JSON)
    unbalanced["entries"][0]["amount"] = 1
    steps.append(("/transactions", json.dumps(unbalanced).encode(), JSON, 400))
    for path, content, headers, status in steps:
        answer = await pair.same(path, content, headers)
        assert answer.status_code == status, (path, headers, answer.text)
    fast_metrics = (await pair.fast.get("/metrics")).text
    routed_metrics = (await pair.routed.get("/metrics")).text
    assert _without_uptime(fast_metrics) == _without_uptime(routed_metrics)
    assert 'ledger_entry_sets_total{outcome="rejected"}' in fast_metrics
    assert 'route="/transactions"' in fast_metrics  # the fast path keeps the route's label


def _without_uptime(text: str) -> list[str]:
    return [line for line in text.splitlines() if "uptime" not in line and "seconds_total{" not in line]


async def test_a_streamed_body_past_the_limit_is_413_on_every_path(pair: Pair) -> None:
    async def chunks(size: int) -> AsyncIterator[bytes]:
        yield b'{"entries": ['
        for _ in range(size // 100):
            yield b" " * 100
        yield b"]}"

    for client in (pair.fast, pair.routed):
        for path, size in (("/transactions", 5000), ("/transactions/bulk", 9000)):
            answer = await client.post(path, content=chunks(size), headers=JSON)  # no Content-Length
            assert answer.status_code == 413, (path, answer.text)
            assert answer.json()["error"] == "payload_too_large" and answer.headers["connection"] == "close"


async def test_other_methods_and_paths_still_reach_the_routes(pair: Pair) -> None:
    for client in (pair.fast, pair.routed):
        assert (await client.get("/transactions")).status_code == 405
        assert (await client.post("/transactions/", content=_body(), headers=JSON)).status_code in (307, 404)
        assert (await client.get("/health")).json()["status"] == "ok"


def _mutations() -> st.SearchStrategy[bytes]:
    """Bodies near a valid one: a field dropped, retyped or replaced, legs reordered or cut."""
    base = {**json.loads(SAMPLE_JSON), "transaction_id": TXID}  # receipts comparable byte for byte
    values = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 10**30), st.text(max_size=12),
        st.sampled_from(["debit", "credit", "GBP", "usd", "1e3", "-5", "0.001", "NaN"]),
        st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )  # fmt: skip

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = copy.deepcopy(base)
        legs = data["entries"]
        for _ in range(draw(st.integers(0, 3))):
            leg = legs[draw(st.integers(0, len(legs) - 1))]
            address = leg.get("address")
            target = address if isinstance(address, dict) and address and draw(st.booleans()) else leg
            if not target:
                continue
            key = draw(st.sampled_from(sorted(target)))
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(values)
        if draw(st.booleans()):
            data["entries"] = legs[: draw(st.integers(0, len(legs)))]
        return json.dumps(data).encode()

    return mutated()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_mutations(), key=st.one_of(st.none(), st.sampled_from(["a", "b", "bad key"])))
async def test_damaged_bodies_get_the_same_answer_on_both_paths(
    pair: Pair, body: bytes, key: str | None
) -> None:
    headers = dict(JSON) if key is None else {**JSON, "Idempotency-Key": key}
    await pair.same("/transactions", body, headers)
