"""Holds and limits over HTTP: pending posts, capture (whole or partial), void, the hold list,
and limits set, listed and cleared; each refusal with its status and field."""

from __future__ import annotations

import json
import uuid

import httpx

from ledger_tui.engine import Engine

from ..support.entry_sets import transfer
from .conftest import JSON

ACC_1 = "test_uk/com.test.customer/current/GBP/acc-1"


def _pending(amount: str, txid: uuid.UUID, **pending: str) -> str:
    data = json.loads(transfer(amount, 1727347200000, transaction_id=txid))
    data["pending"] = pending
    return json.dumps(data)


async def test_a_hold_placed_captured_in_part_and_then_refused_a_void(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    txid = uuid.uuid4()
    placed = await client.post(
        "/transactions", content=_pending("30.00", txid, expires_in="15m"), headers=JSON
    )
    assert placed.status_code == 201 and placed.json()["state"] == "pending"
    again = await client.post(
        "/transactions", content=_pending("30.00", txid, expires_in="15m"), headers=JSON
    )
    assert again.status_code == 200 and again.json()["repeated"] is True
    listed = await client.get("/holds", params={"address": ACC_1})
    assert [h["transaction_id"] for h in listed.json()] == [str(txid)]
    partial = transfer("12.00", 1727347200000)
    captured = await client.post(f"/transactions/{txid}/capture", content=partial, headers=JSON)
    assert captured.status_code == 200 and captured.json()["state"] == "captured"
    assert (await client.get(f"/transactions/{txid}")).json()["entries"][0]["amount"] == "12.00"
    refused = await client.post(f"/transactions/{txid}/void")
    assert refused.status_code == 409 and "it was captured at" in refused.json()["reason"]
    assert (await client.get("/holds")).json() == []
    assert len((await client.get("/holds", params={"all": "true"})).json()) == 1


async def test_bad_holds_are_refused_with_the_field(client: httpx.AsyncClient) -> None:
    txid = uuid.uuid4()
    for pending, field in (({"expires_in": "soon"}, "pending.expires_in"), ({"other": 1}, "pending"),
                           ({"expires_in": "5m", "expires_at": "2030-01-01T00:00:00Z"}, "pending"),
                           ({"expires_at": "yesterday"}, "pending.expires_at")):  # fmt: skip
        answer = await client.post("/transactions", content=_pending("1.00", txid, **pending), headers=JSON)
        assert answer.status_code == 400 and answer.json()["field"] == field, answer.json()
    assert (await client.post(f"/transactions/{txid}/capture")).status_code == 404
    assert (await client.post("/transactions/not-a-uuid/void")).status_code == 400


async def test_limits_over_http_refuse_a_hold_and_are_kept_with_the_key(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    set_limit = await client.put("/limits", json={"pattern": ACC_1, "min": "-10", "max": None})
    assert set_limit.status_code == 200 and set_limit.json() == {
        "pattern": ACC_1,
        "min": "-10.00",
        "max": None,
    }
    assert (await client.get("/limits")).json() == [set_limit.json()]
    held = await client.post("/transactions", content=_pending("10.01", uuid.uuid4()), headers=JSON)
    assert held.status_code == 409 and held.json()["error"] == "limit_exceeded"
    bad = await client.put("/limits", json={"pattern": ACC_1, "min": "0.001"})
    assert bad.status_code == 400 and bad.json()["field"] == "min"
    cleared = await client.put("/limits", json={"pattern": ACC_1, "min": None, "max": None})
    assert cleared.status_code == 200 and (await client.get("/limits")).json() == []
    assert (await client.put("/limits", json={"pattern": ACC_1})).status_code == 404
    history = await origin_engine.limits().history()
    assert [c.changed_by for c in history] == ["api key (none: loopback)"] * 2


async def test_balances_of_an_address_show_what_is_held_and_available(client: httpx.AsyncClient) -> None:
    await client.post("/transactions", content=transfer("50.00", 1727347200000, debit="acc-9", credit="acc-1"),
                      headers=JSON)  # fmt: skip
    await client.post("/transactions", content=_pending("20.00", uuid.uuid4()), headers=JSON)
    rows = (await client.get("/balances", params={"address": ACC_1})).json()["balances"]
    assert rows == [{"currency": "GBP", "opening": "0.00", "debits": "0.00", "credits": "50.00",
                     "closing": "50.00", "pending_debits": "20.00", "pending_credits": "0.00",
                     "available": "30.00"}]  # fmt: skip
    other = (await client.get("/balances", params={"address": ACC_1.replace("acc-1", "acc-9")})).json()
    assert "available" not in other["balances"][0]  # nothing held there
