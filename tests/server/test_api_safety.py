"""The guard: body limits, time limits, no stack traces, an access log without bodies, counters, docs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from ledger_tui.server.settings import ServerSettings

from ..support.entry_sets import transfer
from ..support.stores import SAMPLE_JSON
from .conftest import JSON

SMALL = ServerSettings(max_body=2048, max_bulk_body=4096, request_timeout=0.5, bulk_timeout=0.5)
#: Small bodies, default time limits: a bulk post on a busy node must not meet a 0.5 s deadline here.
SMALL_BODIES = ServerSettings(max_body=2048, max_bulk_body=4096)


@pytest.mark.parametrize("settings", [SMALL_BODIES])
async def test_bodies_past_the_limit_are_413_and_write_nothing(client: httpx.AsyncClient) -> None:
    big = await client.post("/transactions", content=SAMPLE_JSON + " " * 2048, headers=JSON)
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        yield SAMPLE_JSON.encode()
        yield b" " * 4096

    streamed = await client.post("/transactions", content=chunks(), headers=JSON)
    assert streamed.status_code == 413
    ok_bulk = await client.post("/transactions/bulk", content=f"[{transfer(1, 1)}]", headers=JSON)
    assert ok_bulk.status_code == 200  # the bulk limit is its own
    assert (await client.get("/accounts")).json()["accounts"][0]["account_id"] == "acc-1"
    big_bulk = await client.post("/transactions/bulk", content="[" + ",".join([transfer(1, 1)] * 40) + "]",
                                 headers=JSON)  # fmt: skip
    assert big_bulk.status_code == 413


@pytest.mark.parametrize("settings", [SMALL])
async def test_a_request_past_its_time_limit_is_504(app: FastAPI, client: httpx.AsyncClient) -> None:
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"never": "sent"}

    app.add_api_route("/slow", slow)
    answer = await client.get("/slow")
    assert answer.status_code == 504 and answer.json()["error"] == "timeout"
    assert "Idempotency-Key" in answer.json()["reason"]
    metrics = (await client.get("/metrics")).text
    assert "ledger_request_timeouts_total 1" in metrics


async def test_an_unexpected_error_is_a_500_without_its_details(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("password=hunter2 in a stack frame")

    app.add_api_route("/broken", broken)
    answer = await client.get("/broken")
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal" and answer.headers["x-request-id"] in answer.json()["reason"]
    assert "hunter2" not in answer.text and "Traceback" not in answer.text
    assert "hunter2" in caplog.text  # the operator's log has it


async def test_access_log_names_request_not_body_query_or_key(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ledger_tui.server.access")
    body = transfer(1, 1, description="card 4111-1111")
    await client.post("/transactions", content=body, headers={**JSON, "Idempotency-Key": "key-secret-1"})
    await client.get("/balance", params={"name": "customer-facing-balance", "start": "2024-09-01"})
    lines = [r.getMessage() for r in caplog.records if r.name == "ledger_tui.server.access"]
    assert len(lines) == 2
    assert '"POST /transactions" 201' in lines[0] and '"GET /balance" 200' in lines[1]
    for text in ("4111", "key-secret-1", "customer-facing", "2024-09-01"):
        assert text not in caplog.text


async def test_metrics_count_requests_and_entry_sets(client: httpx.AsyncClient) -> None:
    await client.post("/transactions", content=SAMPLE_JSON, headers=JSON)
    await client.post("/transactions", content="{", headers=JSON)
    await client.get("/transactions/not-a-uuid")
    text = (await client.get("/metrics")).text
    assert 'ledger_entry_sets_total{outcome="recorded"} 1' in text
    assert 'ledger_entry_sets_total{outcome="rejected"} 1' in text
    assert "ledger_entries_recorded_total 6" in text
    assert 'ledger_http_requests_total{method="POST",route="/transactions",status="201"} 1' in text
    assert 'ledger_http_requests_total{method="GET",route="/transactions/{txid}",status="400"} 1' in text
    assert "not-a-uuid" not in text


async def test_openapi_document_and_docs_page(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/transactions", "/transaction", "/balance", "/health", "/transactions/{txid}",
            "/transactions/{txid}/reversal", "/transactions/bulk", "/accounts", "/entries", "/balances",
            "/metrics"} <= set(spec["paths"])  # fmt: skip
    body = spec["paths"]["/transactions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EntrySet"}
    assert spec["components"]["schemas"]["EntrySet"]["required"] == ["entries"]
    assert (await client.get("/docs")).status_code == 200
