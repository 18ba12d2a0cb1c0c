"""Accounts and entries page by page (stateless cursors, one snapshot), balances per currency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from ledger_tui.domain.model import Address
from ledger_tui.engine import Engine

from ..support.entry_sets import transfer
from ..support.stores import FixedClock
from .conftest import JSON

ACC_1 = "test_uk/com.test.customer/current/GBP/acc-1"


async def _pages(
    client: httpx.AsyncClient, path: str, key: str, **params: str
) -> list[list[dict[str, object]]]:
    pages, cursor = [], None
    while True:
        answer = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()[key])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages


async def test_accounts_paged_one_by_one_list_every_account_once_in_order(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    for number, (debit, credit, currency) in enumerate(
        [("a", "b", "GBP"), ("a", "c", "EUR"), ("z", "b", "GBP"), ("m", "n", "USD")]
    ):
        await client.post("/transactions", content=transfer(number + 1, 1727347200000, debit=debit,
                                                            credit=credit, currency=currency), headers=JSON)  # fmt: skip
    expected = [str(a) for a in await origin_engine.accounts()]
    assert len(expected) == 7
    for size in ("1", "2", "3", "100"):
        pages = await _pages(client, "/accounts", "accounts", limit=size)
        assert [item["address"] for page in pages for item in page] == expected
        assert all(len(page) == int(size) for page in pages[:-1]) and pages[-1]


async def test_accounts_on_an_empty_ledger(client: httpx.AsyncClient) -> None:
    answer = await client.get("/accounts")
    assert answer.json() == {"accounts": [], "next_cursor": None}


async def test_entries_pages_cover_a_crowded_millisecond_exactly_once(
    client: httpx.AsyncClient, origin_engine: Engine
) -> None:
    when = 1727347200000
    for amount in range(1, 8):  # seven entries in one millisecond, then two later ones
        await client.post("/transactions", content=transfer(amount, when), headers=JSON)
    for amount in (8, 9):
        await client.post("/transactions", content=transfer(amount, when + 86_400_000 * 40), headers=JSON)
    address = Address(*ACC_1.split("/"))
    expected = [e.entry_id async for chunk in origin_engine.iter_entries(address) for e in chunk]
    assert len(expected) == 9
    for size in ("1", "2", "3", "5", "9", "50"):
        pages = await _pages(client, "/entries", "entries", address=ACC_1, limit=size)
        assert [e["entry_id"] for page in pages for e in page] == expected, size
        assert all(len(page) == int(size) for page in pages[:-1])


async def test_entries_later_pages_keep_the_first_pages_snapshot(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    for amount in range(1, 5):
        await client.post("/transactions", content=transfer(amount, 1727347200000 + amount), headers=JSON)
    first = (await client.get("/entries", params={"address": ACC_1, "limit": "2"})).json()
    clock.now = datetime.now(UTC) + timedelta(days=1)  # recorded after the first page was read
    await client.post("/transactions", content=transfer(50, 1727347200000), headers=JSON)
    rest = await _pages(client, "/entries", "entries", address=ACC_1, limit="2", cursor=first["next_cursor"])
    amounts = [e["amount"] for e in first["entries"]] + [e["amount"] for page in rest for e in page]
    assert amounts == ["1.00", "2.00", "3.00", "4.00"]
    fresh = await _pages(client, "/entries", "entries", address=ACC_1, limit="10")
    assert fresh[0][0]["amount"] == "50.00"  # a new read sees it, first in ledger order


async def test_entries_range_as_of_and_refusals(client: httpx.AsyncClient, clock: FixedClock) -> None:
    await client.post("/transactions", content=transfer(1, 1727347200000), headers=JSON)
    clock.advance(days=1)
    await client.post("/transactions", content=transfer(2, 1727433600000), headers=JSON)
    both = (await client.get("/entries", params={"address": ACC_1})).json()["entries"]
    assert [e["amount"] for e in both] == ["1.00", "2.00"]
    early = await client.get("/entries", params={"address": ACC_1, "as_of": "2024-11-05T12:00:00Z"})
    assert [e["amount"] for e in early.json()["entries"]] == ["1.00"]
    ranged = await client.get("/entries", params={"address": ACC_1, "start": "2024-09-27"})
    assert [e["amount"] for e in ranged.json()["entries"]] == ["2.00"]
    page = (await client.get("/entries", params={"address": ACC_1, "limit": "1"})).json()
    for params, field in (
        ({}, "address"),
        ({"address": "a/b/c"}, "address"),
        ({"address": ACC_1, "limit": "0"}, "limit"),
        ({"address": ACC_1, "limit": "1001"}, "limit"),
        ({"address": ACC_1, "cursor": "garbage!"}, "cursor"),
        ({"address": ACC_1, "start": "2024-01-01", "cursor": page["next_cursor"]}, "cursor"),
        ({"address": ACC_1, "as_of": "2020-01-01", "cursor": page["next_cursor"]}, "as_of"),
        ({"address": ACC_1, "as_of": "soon"}, "as_of"),
    ):
        answer = await client.get("/entries", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["field"] == field, params


async def test_balances_per_currency_with_as_of(client: httpx.AsyncClient, clock: FixedClock) -> None:
    await client.post("/transactions", content=transfer("10.10", 1727347200000), headers=JSON)
    await client.post("/transactions", content=transfer("5", 1727347200000, currency="EUR"), headers=JSON)
    clock.advance(days=1)
    await client.post("/transactions", content=transfer("0.05", 1727347200000), headers=JSON)
    every = await client.get("/balances", params={"address": "test_uk/com.test.customer/current/GBP/*"})
    assert every.status_code == 200
    rows = every.json()["balances"]
    assert rows == [
        {"currency": "GBP", "opening": "0.00", "debits": "10.15", "credits": "10.15", "closing": "0.00"}
    ]
    one = await client.get("/balances", params={"address": ACC_1, "as_of": "2024-11-05T12:00:00Z"})
    assert one.json()["balances"][0]["debits"] == "10.10"
    assert one.json()["as_of"] == "2024-11-05T12:00:00.000+00:00"
    named = await client.get("/balances", params={"name": "customer-facing-balance"})
    assert named.json()["balances"] == []
    for params, status in (({}, 400), ({"address": ACC_1, "name": "x"}, 400), ({"name": "nope"}, 404),
                           ({"address": "a/b/c/GBP/*/x"}, 400), ({"address": "*/b/c/GBP/x"}, 400)):  # fmt: skip
        assert (await client.get("/balances", params=params)).status_code == status, params
