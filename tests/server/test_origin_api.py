"""The origin's endpoints over HTTP, on both stores: paths, status codes, balance JSON, health."""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import httpx
import pytest

from ledger_tui.engine import Engine

from ..support.entry_sets import entry_set, leg, transfer
from ..support.stores import SAMPLE_JSON
from .conftest import JSON

SEPTEMBER = {"start": "2024-09-01T00:00:00Z", "end": "2024-10-01T00:00:00Z"}


@pytest.mark.parametrize("path", ["/transactions", "/transaction"])
async def test_post_records_once_and_answers_a_json_receipt(
    client: httpx.AsyncClient, origin_engine: Engine, path: str
) -> None:
    body = json.loads(SAMPLE_JSON)
    body["transaction_id"] = "6a1f0f7e-3c55-4bb0-9d7a-3c1b2a4e5f60"
    first = await client.post(path, content=json.dumps(body), headers=JSON)
    assert first.status_code == 201
    receipt = first.json()
    assert receipt["status"] == "recorded" and receipt["transaction_id"] == body["transaction_id"]
    assert [e["amount"] for e in receipt["entries"]] == [
        "100.00",
        "100.00",
        "50.00",
        "50.00",
        "30.00",
        "30.00",
    ]
    assert receipt["recorded_at"].startswith("2024-11-05T09:30:00")
    again = await client.post(path, content=json.dumps(body), headers=JSON)
    assert again.status_code == 200
    assert again.json() == {**receipt, "status": "duplicate"}  # the original receipt
    stored = await origin_engine.transaction(uuid.UUID(receipt["transaction_id"]))
    assert len(stored.legs) == 6


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (SAMPLE_JSON, {"content-type": "text/plain"}, 415, "Content-Type"),
        (SAMPLE_JSON, {}, 415, "Content-Type"),
        ('{"entries": [', JSON, 400, None),
        ("[1, 2]", JSON, 400, None),
        (entry_set(leg("debit", 10), leg("credit", 9)), JSON, 400, "entries"),
        (entry_set(leg("debit", 10), leg("sideways", 10)), JSON, 400, "entries[1].type"),
        (entry_set(leg("debit", "1e999"), leg("credit", 10)), JSON, 400, "entries[0].amount"),
        ('{"entries": [], "amount": NaN}', JSON, 400, None),
    ],
    ids=["text-plain", "no-content-type", "bad-json", "not-an-object", "unbalanced", "bad-type",
         "huge-amount", "nan"],
)  # fmt: skip
async def test_post_refusals_name_field_and_reason_and_write_nothing(
    client: httpx.AsyncClient,
    origin_engine: Engine,
    body: str,
    headers: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    answer = await client.post("/transactions", content=body, headers=headers)
    assert answer.status_code == status
    error = answer.json()
    assert set(error) >= {"error", "field", "reason"} and error["reason"]
    assert error["field"] == field
    assert "Traceback" not in answer.text
    assert await origin_engine.accounts() == []


async def test_unbalanced_reason_says_by_how_much(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/transactions", content=entry_set(leg("debit", 10), leg("credit", 9)), headers=JSON
    )
    assert "debits exceed credits by 1" in answer.json()["reason"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_on_post_paths_are_405(client: httpx.AsyncClient, method: str) -> None:
    for path in ("/transactions", "/transaction"):
        answer = await client.request(method, path)
        assert answer.status_code == 405
        assert answer.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("name", "amount"),
    [("customer-facing-balance", "-120"), ("interest-chargeable-balance", "50"),
     ("utilities-expense-balance", "-30")],
)  # fmt: skip
async def test_balance_answers_the_origin_json_with_an_exact_number(
    client: httpx.AsyncClient, name: str, amount: str
) -> None:
    assert (await client.post("/transactions", content=SAMPLE_JSON, headers=JSON)).status_code == 201
    answer = await client.get("/balance", params={"name": name, **SEPTEMBER})
    assert answer.status_code == 200
    data = json.loads(answer.text, parse_float=Decimal, parse_int=Decimal)
    assert list(data) == ["amount", "balance_name", "currency", "end", "start"]
    assert data == {"amount": Decimal(amount), "balance_name": name, "currency": "GBP",
                    "end": SEPTEMBER["end"], "start": SEPTEMBER["start"]}  # fmt: skip
    assert re.search(r'"amount":-?\d+(\.\d+)?,', answer.text)  # a JSON number, not a string


async def test_balance_is_the_movement_inside_the_range_exactly(client: httpx.AsyncClient) -> None:
    for amount, when in (("0.10", 1727347200000), ("0.20", 1727347200001), ("7.00", 1696118400000)):
        await client.post(
            "/transactions", content=transfer(amount, when, debit="x", credit="y"), headers=JSON
        )
    # A named balance over the origin's sample addresses is empty; ask with an ad-hoc one.
    answer = await client.get("/balances", params={"address": "test_uk/com.test.customer/current/GBP/y",
                                                   **SEPTEMBER})  # fmt: skip
    row = answer.json()["balances"][0]
    assert (row["opening"], row["credits"], row["closing"]) == ("7.00", "0.30", "7.30")


async def test_balance_outside_any_entry_is_zero(client: httpx.AsyncClient) -> None:
    answer = await client.get("/balance", params={"name": "customer-facing-balance"})
    assert answer.status_code == 200
    assert answer.json() == {"amount": 0, "balance_name": "customer-facing-balance", "currency": "GBP",
                             "end": "", "start": ""}  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name": "no-such-balance"}, "name"),
        ({}, "name"),
        ({"name": "customer-facing-balance", "start": "yesterday"}, "start"),
        ({"name": "customer-facing-balance", "end": "2024-13-01T00:00:00Z"}, "end"),
        ({"name": "customer-facing-balance", "start": "2024-10-01", "end": "2024-09-01"}, "end"),
    ],
    ids=["unknown-name", "no-name", "bad-start", "bad-end", "end-before-start"],
)
async def test_balance_refusals(client: httpx.AsyncClient, params: dict[str, str], field: str) -> None:
    answer = await client.get("/balance", params=params)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


async def test_unknown_balance_name_says_so_and_lists_the_known(client: httpx.AsyncClient) -> None:
    reason = (await client.get("/balance", params={"name": "nope"})).json()["reason"]
    assert reason.startswith("unknown balance name 'nope'") and "customer-facing-balance" in reason


async def test_health_asks_the_store(client: httpx.AsyncClient, origin_engine: Engine) -> None:
    answer = await client.get("/health")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    await origin_engine.close()  # the store goes away under the server
    down = await client.get("/health")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable" and down.headers["retry-after"]
    post = await client.post("/transactions", content=SAMPLE_JSON, headers=JSON)
    assert post.status_code == 503 and post.json()["error"] == "store_unavailable"
    await origin_engine.connect()  # back, for the fixture's clean-up
    assert (await client.get("/health")).status_code == 200
