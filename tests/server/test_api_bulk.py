"""POST /transactions/bulk: arrays and JSON Lines, per-line results, atomic or not, safe retries."""

from __future__ import annotations

import json
import uuid

import httpx

from ledger_tui.domain.model import Address
from ledger_tui.engine import Engine
from ledger_tui.server.settings import ServerSettings

from ..support.entry_sets import entry_set, leg, transfer
from .conftest import JSON

NDJSON = {"content-type": "application/x-ndjson"}
ACC_1 = Address("test_uk", "com.test.customer", "current", "GBP", "acc-1")


def _sets(count: int, start: int = 1) -> list[str]:
    return [transfer(amount, 1727347200000 + amount) for amount in range(start, start + count)]


async def _debits(engine: Engine) -> object:
    rows = await engine.balance(ACC_1)
    return rows[0].debits if rows else 0


async def test_an_array_records_every_set_with_one_result_per_line(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    body = "[" + ",".join(_sets(30)) + "]"
    answer = await client.post("/transactions/bulk", content=body, headers=JSON)
    assert answer.status_code == 200
    data = answer.json()
    assert (data["sets"], data["recorded"], data["entries_recorded"], data["rejected"]) == (30, 30, 60, 0)
    assert [r["line"] for r in data["results"]] == list(range(1, 31))
    assert {r["status"] for r in data["results"]} == {"recorded"}
    assert await _debits(origin_engine) == sum(range(1, 31))
    assert (await origin_engine.verify()).ok


async def test_json_lines_skip_blank_lines_and_number_physical_lines(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    lines = _sets(2)
    body = f"{lines[0]}\n\n{lines[1]}\n"
    data = (await client.post("/transactions/bulk", content=body, headers=NDJSON)).json()
    assert [(r["line"], r["status"]) for r in data["results"]] == [(1, "recorded"), (3, "recorded")]


async def test_not_atomic_posts_good_lines_and_reports_bad_ones(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    good = _sets(2)
    bad = entry_set(leg("debit", 5), leg("credit", 4))
    body = "\n".join([good[0], bad, "{not json", good[1]])
    answer = await client.post("/transactions/bulk", content=body, headers=NDJSON)
    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["recorded", "rejected", "rejected", "recorded"]
    assert results[1]["error"]["field"] == "entries" and "unbalanced" in results[1]["error"]["reason"]
    assert "not valid JSON" in results[2]["error"]["reason"]
    assert await _debits(origin_engine) == 3


async def test_atomic_with_a_bad_line_writes_nothing(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    body = "[" + ",".join([*_sets(3), entry_set(leg("debit", 5), leg("credit", 4))]) + "]"
    answer = await client.post("/transactions/bulk", params={"atomic": "true"}, content=body, headers=JSON)
    assert answer.status_code == 400
    data = answer.json()
    assert [r["status"] for r in data["results"]] == ["not_written"] * 3 + ["rejected"]
    assert data["entries_recorded"] == 0
    assert await origin_engine.accounts() == []


async def test_atomic_with_an_id_taken_by_another_set_writes_nothing(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    taken = uuid.uuid4()
    await client.post(
        "/transactions", content=transfer(100, 1727347200000, transaction_id=taken), headers=JSON
    )
    body = "[" + ",".join([*_sets(2), transfer(7, 1727347200000, transaction_id=taken)]) + "]"
    answer = await client.post("/transactions/bulk", params={"atomic": "1"}, content=body, headers=JSON)
    assert answer.status_code == 409
    assert [r["status"] for r in answer.json()["results"]] == ["not_written", "not_written", "conflict"]
    assert await _debits(origin_engine) == 100
    loose = await client.post("/transactions/bulk", content=body, headers=JSON)
    assert loose.status_code == 207
    assert [r["status"] for r in loose.json()["results"]] == ["recorded", "recorded", "conflict"]


async def test_a_retried_bulk_with_its_key_records_only_what_is_missing(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    headers = {**NDJSON, "Idempotency-Key": "import-2024-09"}
    partial = "\n".join(_sets(3))
    first = await client.post("/transactions/bulk", content=partial, headers=headers)
    assert first.json()["recorded"] == 3
    retry = await client.post("/transactions/bulk", content="\n".join(_sets(5)), headers=headers)
    data = retry.json()
    assert retry.status_code == 200
    assert [r["status"] for r in data["results"]] == ["duplicate"] * 3 + ["recorded"] * 2
    assert [r["transaction_id"] for r in data["results"][:3]] == [
        r["transaction_id"] for r in first.json()["results"]
    ]
    assert await _debits(origin_engine) == 15


async def test_bulk_refusals(client: httpx.AsyncClient, settings: ServerSettings) -> None:
    assert (
        await client.post("/transactions/bulk", content="[]", headers={"content-type": "text/csv"})
    ).status_code == 415
    assert (await client.post("/transactions/bulk", content="{}", headers=JSON)).status_code == 400
    assert (await client.post("/transactions/bulk", content="[", headers=JSON)).status_code == 400
    bad_flag = await client.post("/transactions/bulk", params={"atomic": "maybe"}, content="[]", headers=JSON)
    assert bad_flag.status_code == 400 and bad_flag.json()["field"] == "atomic"
    empty = await client.post("/transactions/bulk", content="[]", headers=JSON)
    assert empty.status_code == 200 and empty.json()["sets"] == 0
    too_many = json.dumps([{}] * (settings.max_bulk_sets + 1))
    answer = await client.post("/transactions/bulk", content=too_many, headers=JSON)
    assert answer.status_code == 413


async def test_atomic_with_one_id_on_two_different_lines_writes_nothing(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    txid = uuid.uuid4()
    body = "\n".join(
        [transfer(1, 1727347200000, transaction_id=txid), transfer(2, 1727347200000, transaction_id=txid)]
    )
    answer = await client.post("/transactions/bulk", params={"atomic": "true"}, content=body, headers=NDJSON)
    assert answer.status_code == 409
    assert [r["status"] for r in answer.json()["results"]] == ["not_written", "conflict"]
    assert await origin_engine.accounts() == []
    same_twice = "\n".join([transfer(1, 1727347200000, transaction_id=txid)] * 2)
    answer = await client.post(
        "/transactions/bulk", params={"atomic": "true"}, content=same_twice, headers=NDJSON
    )
    assert [r["status"] for r in answer.json()["results"]] == ["recorded", "duplicate"]


async def test_bulk_larger_than_one_chunk(
    client: httpx.AsyncClient, origin_engine: Engine, settings: ServerSettings
) -> None:
    count = settings.bulk_chunk * 2 + 7
    body = "\n".join(transfer(1, 1727347200000 + n) for n in range(count))
    answer = await client.post("/transactions/bulk", content=body, headers=NDJSON)
    assert answer.status_code == 200 and answer.json()["recorded"] == count
    assert [r["line"] for r in answer.json()["results"]] == list(range(1, count + 1))
    assert await _debits(origin_engine) == count
