"""The OpenAPI document says what the server does: statuses, Allow, ids, limits, address rules."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.money import Currencies
from ledger_tui.engine import Engine
from ledger_tui.server import openapi_docs
from ledger_tui.server.app import create_app
from ledger_tui.server.openapi_schemas import address_text_pattern

from ..support.stores import SAMPLE_JSON
from .conftest import JSON

METHODS = {"get", "post", "put", "patch", "delete", "options", "head"}


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS]  # fmt: skip


async def test_every_status_is_one_the_server_sends_with_the_error_body(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        assert "422" not in statuses, (method, path)  # the server answers 400, never 422
        assert {"413", "500", "504"} <= statuses, (method, path)  # the request guard, on every route
        if "requestBody" in operation:
            assert "415" in statuses, (method, path)
        for status in statuses - {"200", "201", "207"} - ({"503"} if path == "/health" else set()):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert "#/components/schemas/Error" in str(schema), (method, path, status)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "field", "reason"] and "problems" in error["properties"]


async def test_a_bulk_post_without_content_type_is_a_documented_415(client: httpx.AsyncClient) -> None:
    answer = await client.post("/transactions/bulk")
    assert answer.status_code == 415 and answer.json()["field"] == "Content-Type"
    assert "415" in (await _document(client))["paths"]["/transactions/bulk"]["post"]["responses"]


@pytest.mark.parametrize("method", ["OPTIONS", "GET", "PUT", "DELETE"])
async def test_other_methods_on_the_bulk_path_are_405_allowing_post(
    client: httpx.AsyncClient, method: str
) -> None:
    answer = await client.request(method, "/transactions/bulk")
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json()["error"] == "method_not_allowed"


async def test_allow_lists_the_documented_methods(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    txid = str(uuid.uuid4())
    for path in ("/transactions", "/accounts", f"/transactions/{txid}", f"/transactions/{txid}/reversal"):
        answer = await client.request("OPTIONS", path)
        documented = path.replace(txid, "{txid}")
        assert answer.status_code == 405
        assert answer.headers["allow"] == ", ".join(m.upper() for m in document["paths"][documented]), path


@pytest.mark.parametrize("text", ["0", "bulkx", "{12345678-1234-1234-1234-123456789abc}",
                                  "12345678123412341234123456789abc", "urn:uuid:12345678-1234-1234-1234-123456789abc",
                                  "12345678-1234-1234-1234-123456789abc%0A"])  # fmt: skip
async def test_a_txid_that_is_not_a_canonical_uuid_is_a_documented_400(
    client: httpx.AsyncClient, text: str
) -> None:
    document = await _document(client)
    for method, path in (("GET", "/transactions/{txid}"), ("POST", "/transactions/{txid}/reversal")):
        (parameter,) = document["paths"][path][method.lower()]["parameters"]
        assert re.fullmatch(parameter["schema"]["pattern"].strip("^$"), text) is None
        assert "400" in document["paths"][path][method.lower()]["responses"]
        answer = await client.request(method, path.replace("{txid}", text))
        assert answer.status_code == 400 and answer.json()["field"] == "transaction_id", (method, text)


async def test_a_reversal_of_a_canonical_id_reaches_the_ledger(client: httpx.AsyncClient) -> None:
    receipt = (await client.post("/transactions", content=SAMPLE_JSON, headers=JSON)).json()
    upper = receipt["transaction_id"].upper()  # the pattern allows either case
    assert (await client.get(f"/transactions/{upper}")).status_code == 200
    assert (await client.post(f"/transactions/{upper}/reversal")).status_code == 201


@pytest.mark.parametrize("text", [" 5", "+5", "5_0", "٥", "5.0", "1e2"])
async def test_a_limit_is_ascii_digits_only(client: httpx.AsyncClient, text: str) -> None:
    answer = await client.get("/accounts", params={"limit": text})
    assert answer.status_code == 400 and answer.json()["field"] == "limit"
    assert (await client.get("/accounts", params={"limit": "5"})).status_code == 200


async def test_parameters_carry_the_servers_rules(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    entries = {p["name"]: p for p in document["paths"]["/entries"]["get"]["parameters"]}
    assert entries["address"]["required"] is True
    limit = entries["limit"]["schema"]["anyOf"][0]
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    key = document["paths"]["/transactions"]["post"]["parameters"][0]
    assert (
        key["name"] == "Idempotency-Key"
        and re.fullmatch(key["schema"]["pattern"].strip("^$"), "k" * 256) is None
    )
    currency = document["components"]["schemas"]["Address"]["properties"]["currency"]
    assert "GBP" in currency["enum"] and "AAA" not in currency["enum"]


async def test_configured_currencies_are_in_the_document(make_engine: Callable[..., Engine]) -> None:
    app: FastAPI = create_app(make_engine(currencies=Currencies({"XBT": 8})))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        document = await _document(http)
    assert "XBT" in document["components"]["schemas"]["Address"]["properties"]["currency"]["enum"]


def test_statuses_for_every_protected_route_are_added_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openapi_docs, "PROTECTED_STATUSES", (401, 429))
    assert set(openapi_docs.responses(404)) == {404, 413, 500, 504, 401, 429}
    assert set(openapi_docs.responses(public=True)) == {413, 500, 504}
    assert openapi_docs.responses((404, "gone"))[404]["description"] == "gone"


_PART_TEXT = st.text(st.characters(max_codepoint=0xFFFF, codec="utf-8"), min_size=0, max_size=6)


@settings(derandomize=True, database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(_PART_TEXT | st.sampled_from(["a", "GBP", "*", "é", " ", "a/b", "\u200b"]),
                      min_size=5, max_size=5))  # fmt: skip
def test_the_address_pattern_is_the_servers_rule_but_nfc(parts: list[str]) -> None:
    text = "/".join(parts)
    matches = re.fullmatch(address_text_pattern(Currencies().codes()).strip("^$"), text) is not None
    try:
        parse_address(text)
        accepted = True
    except ValidationError:
        accepted = False
    if unicodedata.is_normalized("NFC", text):  # NFC is the one rule the pattern cannot state
        assert matches == accepted, text
    else:
        assert not accepted
