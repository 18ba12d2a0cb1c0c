"""A set a limit refuses: 409 limit_exceeded with the figures over HTTP, alone and in a bulk."""

from __future__ import annotations

import httpx
import pytest

from ledger_tui.engine import Engine

from ..support.entry_sets import transfer
from .conftest import JSON

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"])
PREFIX = "test_uk/com.test.customer/current/GBP"


async def test_a_refused_post_is_a_409_naming_account_available_bound_and_amount(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    await origin_engine.post_json(transfer("25.00", 1727347200000, debit="bank", credit="acc-1"))
    await origin_engine.limits().set(f"{PREFIX}/acc-1", "0", None, "test")
    answer = await client.post("/transactions", content=transfer("25.01", 1727347200000), headers=JSON)
    assert answer.status_code == 409
    error = answer.json()
    assert error["error"] == "limit_exceeded" and error["field"] == "entries"
    assert error["account"]["account_id"] == "acc-1" and error["bound"] == "min"
    assert (error["available"], error["limit"], error["amount"]) == ("25.00", "0.00", "25.01")
    assert "below its minimum" in error["reason"]
    ok = await client.post("/transactions", content=transfer("25.00", 1727347200000), headers=JSON)
    assert ok.status_code == 201


async def test_a_bulk_refuses_the_line_that_breaks_a_limit_and_records_the_rest(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    await origin_engine.limits().set(f"{PREFIX}/acc-1", "-10", None, "test")
    body = "\n".join(transfer(amount, 1727347200000) for amount in ("6.00", "6.00", "4.00"))
    answer = await client.post(
        "/transactions/bulk", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["recorded", "rejected", "recorded"]
    assert results[1]["error"]["error"] == "limit_exceeded" and results[1]["error"]["available"] == "-6.00"
