"""The bugs an hour of real use found (issue 13), each pinned by a flow on both stores."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.app.chart.balance_chart import BalanceChart
from ledger_tui.app.chart.screen import ChartScreen
from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.leg_editor import LegEditor
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.app.widgets.dialogs import ConfirmDialog
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine

from ..support.console import (
    ALICE,
    BRUNO,
    FEES_EUR,
    SIZE,
    TOP_UP,
    make_app,
    post_draft,
    post_sample,
    settle,
    type_burst,
)


def _field(editor: LegEditor, name: str) -> Input:
    return editor.query_one(f".field-{name}", Input)


async def test_every_typed_character_lands(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = app.screen.query(LegEditor).first()
        part = "settlement.card_scheme.clearing-0123456"  # 40 characters, no suggestion matches
        assert len(part + "x") == 40
        description = "".join("abcdefghij klmnopqrs"[i % 20] for i in range(5000))
        _field(editor, "legal_entity").focus()
        await type_burst(pilot, part + "x\tcom.fintech.settlement\tcard_scheme\tgbp\tx1")
        assert [_field(editor, name).value for name in ("legal_entity", "namespace", "name")] == [
            part + "x",
            "com.fintech.settlement",
            "card_scheme",
        ]
        assert _field(editor, "currency").value == "GBP"  # upper-cased as typed
        assert _field(editor, "account_id").value == "x1"
        _field(editor, "description").focus()
        await type_burst(pilot, description)
        assert _field(editor, "description").value == description
        await pilot.pause(0.3)  # the check runs once the keys pause
        assert "legal_entity" not in str(editor.query_one(".leg-errors", Static).render())


async def test_tab_accepts_the_suggestion_scoped_to_the_parts_before(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = app.screen.query(LegEditor).first()
        _field(editor, "legal_entity").focus()
        await type_burst(pilot, "fintech_e")
        await pilot.pause(0.1)
        await type_burst(pilot, "\tcom.fintech.c")
        await pilot.pause(0.1)
        await type_burst(pilot, "\tc")
        await pilot.pause(0.1)
        await type_burst(pilot, "\te")  # upper-cased, then completed within fintech_eu's customers
        await pilot.pause(0.1)
        await type_burst(pilot, "\t")
        await pilot.pause(0.1)
        assert _field(editor, "legal_entity").value == "fintech_eu"
        assert _field(editor, "namespace").value == "com.fintech.customer"
        assert _field(editor, "name").value == "current"
        assert _field(editor, "currency").value == "EUR"
        assert app.focused is _field(editor, "account_id")


async def test_posting_to_a_new_account_asks_first(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        typo = dataclasses.replace(TOP_UP[1], namespace="com.fintech.cu")
        await post_draft(pilot, [TOP_UP[0], typo], new_accounts=False)
        assert isinstance(app.screen, ConfirmDialog)
        body = str(app.screen.query_one("#confirm-body", Static).render())
        assert "fintech_uk/com.fintech.cu/current/GBP/alice" in body
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert str(app.screen.query_one("#receipt", Static).render()) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "recorded" in str(app.screen.query_one("#receipt", Static).render())
    assert any(a.namespace == "com.fintech.cu" for a in await engine.accounts())


async def test_ctrl_n_asks_before_dropping_a_typed_draft(engine: Engine) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await compose.set_draft([TOP_UP[0], LegDraft(side="credit")])
        first_id = compose._transaction_id
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert compose._transaction_id == first_id and compose._drafts()[0] == TOP_UP[0]
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert compose._transaction_id != first_id and all(d.is_blank for d in compose._drafts())
        await pilot.press("ctrl+n")  # a blank draft goes without asking
        await settle(pilot)
        assert app.screen is compose


async def test_browse_dates_give_the_keys_back_on_enter_and_escape(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.show_entries(ALICE)
        await settle(pilot)
        # Typed in one burst: "]" after enter is a browse key (next month), not a character in To.
        await pilot.press("f")
        await type_burst(pilot, "2024-09-01\t2024-12-31")
        await type_burst(pilot, "\n]")
        assert app.focused is browse.query_one("#entries")
        assert browse.query_one("#range-from", Input).value == "2024-09-01"
        assert browse.query_one("#range-to", Input).value == "2024-10-01"  # one month from From
        await pilot.press("f")
        await type_burst(pilot, "\x1b2")  # escape leaves the dates, so "2" switches to browse
        assert app.focused is browse.query_one("#entries")
        assert isinstance(app.screen, BrowseScreen)
        assert browse.query_one("#range-from", Input).value == "2024-09-01"


async def test_chart_says_loading_until_the_series_arrives(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "chart")
    async with app.run_test(size=SIZE) as pilot:
        chart = app.screen
        assert isinstance(chart, ChartScreen)
        plot = chart.query_one(BalanceChart)
        notes: list[str] = []
        original = plot.show_series

        def spy(*args: object) -> None:
            notes.append(plot.note)  # what was on screen just before the answer
            original(*args)  # type: ignore[arg-type]

        plot.show_series = spy  # type: ignore[method-assign,assignment]
        await settle(pilot)
        assert notes and all(note.startswith("Loading ") for note in notes)
        assert "No entries" not in plot.note


async def test_go_to_leg_finds_an_account_past_the_first_page_of_a_level(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        tree = browse.query_one(AccountTree)
        tree.page_size = 1  # every level has more than one child: each is "past the first page"
        tree.reload()
        await settle(pilot)
        browse.set_range(TimeRange())
        browse.show_entries(BRUNO)
        await settle(pilot)
        await pilot.press("e", "down", "enter")  # bruno's FX fee
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        await pilot.press("down", "enter")  # its second leg: fees, under the third namespace of fintech_eu
        await settle(pilot, rounds=8)
        node = tree.cursor_node
        assert node is not None and node.data is not None
        address = browse._panel.address
        assert address == FEES_EUR
        assert node.data.kind == "bucket" and node.data.path[:5] == address.as_tuple()


async def test_save_names_the_full_path(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        seen: list[str] = []
        monkeypatch.setattr(compose, "notify", lambda message, **_: seen.append(str(message)))
        compose._save_to("drafts/mine.json")
        assert seen == [f"Saved the draft to {tmp_path / 'drafts' / 'mine.json'}"]
        assert (tmp_path / "drafts" / "mine.json").exists()


def test_the_default_save_path_is_outside_the_working_directory() -> None:
    from ledger_tui.app.compose.draft_files import default_draft_dir

    assert default_draft_dir().is_absolute() and default_draft_dir().name == "drafts"
