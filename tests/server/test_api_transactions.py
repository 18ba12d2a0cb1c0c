"""Idempotency keys (and a 20-request race), one transaction by id, reversals, on both stores."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx

from ledger_tui.domain.model import Address
from ledger_tui.engine import Engine

from ..support.entry_sets import transfer
from .conftest import JSON

KEY = {"Idempotency-Key": "order-4711"}
ACC_1 = Address("test_uk", "com.test.customer", "current", "GBP", "acc-1")


async def _entries_of(engine: Engine, address: Address) -> int:
    return sum([len(chunk) async for chunk in engine.iter_entries(address)])


async def test_idempotency_key_records_once_and_a_retry_gets_the_original(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    body = transfer("12.50", 1727347200000)
    first = await client.post("/transactions", content=body, headers={**JSON, **KEY})
    retry = await client.post("/transactions", content=body, headers={**JSON, **KEY})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["transaction_id"] == first.json()["transaction_id"]
    assert retry.json()["recorded_at"] == first.json()["recorded_at"]
    assert await _entries_of(origin_engine, ACC_1) == 1
    other_key = await client.post(
        "/transactions", content=body, headers={**JSON, "Idempotency-Key": "order-4712"}
    )
    assert (
        other_key.status_code == 201 and other_key.json()["transaction_id"] != first.json()["transaction_id"]
    )


async def test_same_key_with_another_body_is_a_409_naming_the_key(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    await client.post("/transactions", content=transfer("12.50", 1727347200000), headers={**JSON, **KEY})
    clash = await client.post(
        "/transactions", content=transfer("13.00", 1727347200000), headers={**JSON, **KEY}
    )
    assert clash.status_code == 409
    error = clash.json()
    assert error["error"] == "conflict" and error["field"] == "Idempotency-Key"
    assert "different entry set" in error["reason"] and "order-4711" not in error["reason"]
    rows = await origin_engine.balance(ACC_1)
    assert rows[0].debits == 12.50  # the original stands


async def test_a_body_transaction_id_wins_over_the_key(client: httpx.AsyncClient) -> None:
    txid = uuid.uuid4()
    answer = await client.post(
        "/transactions", content=transfer("1", 1727347200000, transaction_id=txid), headers={**JSON, **KEY}
    )
    assert answer.json()["transaction_id"] == str(txid)
    clash = await client.post(
        "/transactions", content=transfer("2", 1727347200000, transaction_id=txid), headers=JSON
    )
    assert clash.status_code == 409 and clash.json()["field"] == "transaction_id"


async def test_bad_idempotency_keys_are_refused(client: httpx.AsyncClient) -> None:
    for key in ("", "with space", "x" * 256, "naïve"):
        answer = await client.post(
            "/transactions", content=transfer("1", 1727347200000),
            headers=[(b"content-type", b"application/json"), (b"Idempotency-Key", key.encode())],
        )  # fmt: skip
        assert answer.status_code == 400, key
        assert answer.json()["field"] == "Idempotency-Key"


async def test_twenty_concurrent_requests_with_one_key_record_one_entry_set(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    body = transfer("99.99", 1727347200000)  # no timestamp-free legs: one payload, one hash
    answers = await asyncio.gather(
        *(
            client.post("/transactions", content=body, headers={**JSON, "Idempotency-Key": "race"})
            for _ in range(20)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 19 + [201]
    assert len({a.json()["transaction_id"] for a in answers}) == 1
    assert len({a.json()["recorded_at"] for a in answers}) == 1
    assert await _entries_of(origin_engine, ACC_1) == 1
    assert (await origin_engine.verify()).ok


async def test_twenty_concurrent_requests_with_one_key_and_legs_without_timestamps(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    """Legs dated 'when recorded' hash alike, so racing copies are still one set."""
    data = json.loads(transfer("5", 0))
    for item in data["entries"]:
        del item["timestamp"]
    answers = await asyncio.gather(
        *(client.post("/transactions", json=data, headers={"Idempotency-Key": "race-2"}) for _ in range(20))
    )
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert await _entries_of(origin_engine, ACC_1) == 1


async def test_get_transaction(client: httpx.AsyncClient) -> None:
    posted = (await client.post("/transactions", content=transfer("3", 1727347200000), headers=JSON)).json()
    found = await client.get(f"/transactions/{posted['transaction_id']}")
    assert found.status_code == 200
    assert found.json() == {key: posted[key] for key in ("transaction_id", "recorded_at", "entries")}
    missing = await client.get(f"/transactions/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad = await client.get("/transactions/not-a-uuid")
    assert bad.status_code == 400 and bad.json()["field"] == "transaction_id"


async def test_reversal_posts_the_mirror_once(client: httpx.AsyncClient, origin_engine: Engine) -> None:
    posted = (await client.post("/transactions", content=transfer("3", 1727347200000), headers=JSON)).json()
    path = f"/transactions/{posted['transaction_id']}/reversal"
    first = await client.post(path)
    assert first.status_code == 201
    assert first.headers["location"] == f"/transactions/{first.json()['transaction_id']}"
    assert [e["type"] for e in first.json()["entries"]] == ["credit", "debit"]
    again = await client.post(path)
    assert again.status_code == 200 and again.json()["transaction_id"] == first.json()["transaction_id"]
    rows = await origin_engine.balance(ACC_1)
    assert rows[0].closing == 0
    other = await client.post(path, json={"description": "another wording"})
    assert other.status_code == 409  # already reversed with another description
    assert (await client.post(f"/transactions/{uuid.uuid4()}/reversal")).status_code == 404
    assert (await client.post("/transactions/nope/reversal")).status_code == 400


async def test_reversal_description_and_bad_bodies(client: httpx.AsyncClient) -> None:
    posted = (await client.post("/transactions", content=transfer("3", 1727347200000), headers=JSON)).json()
    path = f"/transactions/{posted['transaction_id']}/reversal"
    for body, headers, status in (
        ("[]", JSON, 400),
        ('{"description": 5}', JSON, 400),
        ('{"description": "x"}', {"content-type": "text/plain"}, 415),
    ):
        assert (await client.post(path, content=body, headers=headers)).status_code == status
    named = await client.post(path, json={"description": "chargeback 17"})
    assert named.status_code == 201
    assert {e["description"] for e in named.json()["entries"]} == {"chargeback 17"}
