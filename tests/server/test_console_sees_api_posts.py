"""The console and the server on one store: a set posted over HTTP shows in browse after ``r``."""

from __future__ import annotations

from pathlib import Path

import httpx
from textual.widgets import DataTable

from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.server.app import create_app

from ..support.console import ALICE, SIZE, make_app, new_engine, post_sample, settle
from ..support.entry_sets import entry_set, leg


async def test_refresh_shows_a_set_posted_through_the_api(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    console_engine, server_engine = new_engine(path), new_engine(path)  # two processes' worth
    await console_engine.connect()
    await server_engine.connect()
    await post_sample(console_engine)
    app = make_app(console_engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(TimeRange())
        browse.show_entries(ALICE)
        await settle(pilot)
        table: DataTable[object] = browse.query_one("#entries", DataTable)
        before = table.row_count
        tree = browse.query_one(AccountTree)
        entities = [str(node.label) for node in tree.root.children]
        assert "fintech_de" not in " ".join(entities)

        body = entry_set(
            leg("debit", "12.34", entity="fintech_de", namespace="com.fintech.account", name="main",
                account="ops", timestamp=1730800000000),
            leg("credit", "12.34", entity="fintech_uk", namespace="com.fintech.customer", name="current",
                account="alice", timestamp=1730800000000),
        )  # fmt: skip
        transport = httpx.ASGITransport(app=create_app(server_engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            posted = await client.post(
                "/transactions", content=body, headers={"content-type": "application/json"}
            )
        assert posted.status_code == 201
        await settle(pilot)
        assert table.row_count == before  # nothing tells the console by itself

        await pilot.press("t", "r")
        await settle(pilot)
        assert table.row_count == before + 1
        assert "fintech_de" in " ".join(str(node.label) for node in tree.root.children)
    await server_engine.close()
    await console_engine.close()
