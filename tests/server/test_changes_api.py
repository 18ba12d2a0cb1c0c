"""``GET /changes`` on both stores: pages followed by their cursor give every set once, in commit
order; ``cursor=now`` gives only later sets; bad cursors and limits are 400s naming the parameter;
the route needs the read scope; the document's cursor pattern takes every cursor the stores issue."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ledger_tui.domain.keys import POST, READ
from ledger_tui.engine import Engine
from ledger_tui.server.app import create_app
from ledger_tui.server.openapi_schemas import CHANGE_CURSOR_PATTERN
from ledger_tui.store.base import Store

from ..support.entry_sets import transfer
from .conftest import JSON

WHEN = 1727347200000


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local writes are acknowledged in milliseconds: Cassandra's events settle after 1 s, not 10."""
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))


async def _settle(store: Store) -> None:
    """Wait until every write so far is settled (Cassandra shows an event only then)."""
    if store.info.kind == "cassandra":
        await asyncio.sleep(1.2)


async def _post(client: httpx.AsyncClient, amount: int) -> str:
    txid = str(uuid.uuid4())
    answer = await client.post(
        "/transactions", content=transfer(amount, WHEN, transaction_id=txid), headers=JSON
    )
    assert answer.status_code == 201, answer.text
    return txid


async def _poll(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    answer = await client.get("/changes", params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def _drain(
    client: httpx.AsyncClient, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """Every event after ``cursor``, following each answer's cursor until ``more`` is false."""
    events: list[dict[str, Any]] = []
    while True:
        page = await _poll(client, limit=str(limit), **({"cursor": cursor} if cursor is not None else {}))
        assert len(page["events"]) <= limit
        events += page["events"]
        cursor = page["cursor"]
        if not page["more"]:
            return events, page["cursor"]


def _documented(cursor: str) -> bool:
    return re.fullmatch(CHANGE_CURSOR_PATTERN.strip("^$"), cursor) is not None


async def test_pages_followed_by_their_cursor_give_every_set_once_in_commit_order(
    client: httpx.AsyncClient, store: Store
) -> None:
    posted = [await _post(client, amount) for amount in range(1, 10)]
    await _settle(store)
    for limit in (1, 2, 4, 1000):
        events, last = await _drain(client, None, limit)
        assert [event["transaction_id"] for event in events] == posted, limit
        assert len({event["event_id"] for event in events}) == len(posted)
        assert all(_documented(event["cursor"]) for event in events) and _documented(last)
        assert (await _poll(client, cursor=last))["events"] == []  # nothing after the last cursor
    first = events[0]
    assert first["type"] == "entry_set.recorded" and "reverses" not in first
    assert [entry["amount"] for entry in first["entries"]] == ["1.00", "1.00"]  # exact strings
    rest, _ = await _drain(client, events[3]["cursor"], 3)  # resuming from an event skips nothing
    assert [event["transaction_id"] for event in rest] == posted[4:]


async def test_a_page_says_how_far_behind_it_is(client: httpx.AsyncClient, store: Store) -> None:
    for amount in range(1, 4):
        await _post(client, amount)
    await _settle(store)
    page = await _poll(client, limit="1")
    assert page["more"] is True and len(page["events"]) == 1
    lag = page["lag"]
    assert set(lag) == {"events", "seconds", "waiting", "oldest_waiting"}
    assert lag["waiting"] == 0 and lag["oldest_waiting"] is None
    if store.info.kind == "sqlite":
        assert lag["events"] == 2  # the embedded store counts what is left exactly
    else:
        assert lag["seconds"] is not None and lag["seconds"] >= 0


async def test_from_now_the_next_poll_has_only_the_later_set(client: httpx.AsyncClient, store: Store) -> None:
    await _post(client, 1)
    await _settle(store)
    now = await _poll(client, cursor="now")
    assert now["events"] == [] and now["more"] is False and _documented(now["cursor"])
    later = await _post(client, 2)
    await _settle(store)
    page = await _poll(client, cursor=now["cursor"])
    assert [event["transaction_id"] for event in page["events"]] == [later]


async def test_a_reversal_event_names_what_it_reverses(client: httpx.AsyncClient, store: Store) -> None:
    txid = await _post(client, 5)
    assert (await client.post(f"/transactions/{txid}/reversal")).status_code == 201
    await _settle(store)
    events, _ = await _drain(client, None, 10)
    assert [event["type"] for event in events] == ["entry_set.recorded", "reversal.recorded"]
    assert events[1]["reverses"] == txid


@pytest.mark.parametrize("cursor", ["x", "s1-", "s1-1x", "s1-" + "9" * 19, "s1-" + "9" * 20, "now ", "NOW",
                                    "c1-ffffffffffffffff-" + "f" * 32, "c1-1-" + "0" * 32 + "-w0.8." + "0" * 32,
                                    "c1-1-" + "0" * 32 + "-wffffffffffffffff.7." + "f" * 32, "../../etc",
                                    "s1-1\n", "foreign"])  # fmt: skip
async def test_a_cursor_the_ledger_did_not_issue_is_a_400_naming_it(
    client: httpx.AsyncClient, store: Store, cursor: str
) -> None:
    if cursor == "foreign":  # well formed, from the other store
        cursor = "c1-1-" + "0" * 32 if store.info.kind == "sqlite" else "s1-4"
    answer = await client.get("/changes", params={"cursor": cursor})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "cursor" and answer.json()["error"] == "invalid_request"
    assert "Traceback" not in answer.text


@pytest.mark.parametrize("limit", ["0", "5001", "-1", "abc", " 5", "+5", "1.5", "٥", "9" * 12])
async def test_a_limit_outside_1_to_5000_or_not_digits_is_a_400_naming_it(
    client: httpx.AsyncClient, limit: str
) -> None:
    answer = await client.get("/changes", params={"limit": limit})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "limit" and "Traceback" not in answer.text


async def test_the_largest_limit_and_an_empty_one_are_taken(client: httpx.AsyncClient) -> None:
    for limit in ("5000", "1", ""):
        assert (await client.get("/changes", params={"limit": limit, "cursor": ""})).status_code == 200


async def test_a_key_needs_the_read_scope(origin_engine: Engine) -> None:
    _, poster = await origin_engine.keys().create("poster", frozenset({POST}))
    _, reader = await origin_engine.keys().create("reader", frozenset({READ}))
    transport = httpx.ASGITransport(app=create_app(origin_engine), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        refused = await client.get("/changes", headers={"authorization": f"Bearer {poster}"})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert "read" in refused.json()["reason"]
        assert (await client.get("/changes")).status_code == 401
        taken = await client.get("/changes", headers={"authorization": f"Bearer {reader}"})
        assert taken.status_code == 200 and taken.json()["events"] == []


async def test_the_document_states_the_parameters_and_every_answer(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/changes"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    limit = parameters["limit"]["anyOf"][0]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 5000)
    assert parameters["cursor"]["pattern"] == CHANGE_CURSOR_PATTERN
    for cursor in ("", "now", "s1-0", "s1-123", "c1-1f1f1be48f23bae-" + "f" * 32,
                   "c1-1-" + "0" * 32 + ("-w3.7." + "a" * 32) * 64):  # fmt: skip
        assert _documented(cursor), cursor
    for cursor in ("x", "s1-", "NOW", "c1-1-" + "0" * 32 + ("-w3.7." + "a" * 32) * 65, "c1-1-" + "F" * 32):
        assert not _documented(cursor), cursor
    assert {"200", "400", "401", "403", "429", "503"} <= set(operation["responses"])
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/ChangesPage"}
    schemas = document["components"]["schemas"]
    assert schemas["ChangesPage"]["required"] == ["events", "cursor", "more", "lag"]
    assert schemas["Event"]["properties"]["type"]["enum"] == [
        "entry_set.recorded",
        "reversal.recorded",
        "hold.placed",
        "hold.voided",
        "hold.expired",
    ]
