"""Compose (issue 13 item 9): typed amounts with separators, the new-account question asked of
the ledger at post time, and Tab completions that stay inside the parts typed before."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from textual.widgets import Input, Static

from ledger_tui.app.compose.leg_editor import LegEditor
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.app.widgets.dialogs import ConfirmDialog
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.engine import Engine

from ..support.console import (
    NOW,
    SIZE,
    TOP_UP,
    fixed_id,
    make_app,
    post_draft,
    post_sample,
    settle,
    type_burst,
)


def _field(editor: LegEditor, name: str) -> Input:
    return editor.query_one(f".field-{name}", Input)


def _receipt(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return str(screen.query_one("#receipt", Static).render())


async def test_an_amount_typed_with_thousands_separators_posts_exactly(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.query(LegEditor).first()
        _field(first, "amount").focus()
        await type_burst(pilot, "1,00.5")
        await pilot.pause(0.3)
        errors = str(first.query_one(".leg-errors", Static).render())
        assert "'1,00.5' has a ',' out of place" in errors
        assert "groups of three digits" in errors
        await post_draft(pilot, [dataclasses.replace(d, amount="1,000.50") for d in TOP_UP])
        assert "recorded" in _receipt(app)
    [row] = await engine.balance(Address(*dataclasses.astuple(TOP_UP[1])[:5]))
    assert row.credits == Decimal("1000.50") + Decimal("1300.00")  # the sample's credits plus this one


async def test_the_new_account_question_asks_the_ledger_not_the_loaded_list(engine: Engine) -> None:
    """An account created elsewhere after the screen loaded its completions is not 'new'; one
    never seen is asked about, whatever the screen had loaded."""
    await post_sample(engine)
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        elsewhere = Address("fintech_uk", "com.fintech.customer", "current", "GBP", "dora")
        ops = Address(*dataclasses.astuple(TOP_UP[0])[:5])
        legs = [
            Leg(ops, Side.DEBIT, Decimal("5.00"), "another client", NOW),
            Leg(elsewhere, Side.CREDIT, Decimal("5.00"), "another client", NOW),
        ]
        await engine.post(build_entry_set(fixed_id(77), legs))  # after the completions were loaded
        dora = dataclasses.replace(TOP_UP[1], account_id="dora")
        await post_draft(pilot, [TOP_UP[0], dora], new_accounts=False)
        assert isinstance(app.screen, ComposeScreen), "an existing account must not be asked about"
        assert "recorded" in _receipt(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        if isinstance(app.screen, ConfirmDialog):
            await pilot.press("y")
            await settle(pilot)
        erin = dataclasses.replace(TOP_UP[1], account_id="erin")
        await post_draft(pilot, [TOP_UP[0], erin], new_accounts=False)
        assert isinstance(app.screen, ConfirmDialog)
        body = str(app.screen.query_one("#confirm-body", Static).render())
        assert "fintech_uk/com.fintech.customer/current/GBP/erin" in body
        assert "dora" not in body and "ops" not in body


async def test_completions_stay_inside_the_typed_legal_entity(engine: Engine) -> None:
    """'com.fintech.c' completes under fintech_eu to what fintech_eu has, never to another
    entity's namespace; with nothing under the typed parts, Tab keeps the text as typed."""
    await post_sample(engine)
    ours = Address("fintech_eu", "com.fintech.cards", "pool", "EUR", "x")
    other = Address("fintech_uk", "com.fintech.clearing", "pool", "GBP", "x")
    for number, address in ((80, ours), (81, other)):
        legs = [
            Leg(address, Side.DEBIT, Decimal("1.00"), "", NOW),
            Leg(dataclasses.replace(address, account_id="y"), Side.CREDIT, Decimal("1.00"), "", NOW),
        ]
        await engine.post(build_entry_set(fixed_id(number), legs))
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = app.screen.query(LegEditor).first()
        _field(editor, "legal_entity").focus()
        await type_burst(pilot, "fintech_eu\tcom.fintech.cl")
        await pilot.pause(0.1)
        await type_burst(pilot, "\t")
        assert _field(editor, "namespace").value == "com.fintech.cl"  # fintech_uk's clearing is not offered
        _field(editor, "namespace").value = ""
        _field(editor, "namespace").focus()
        await type_burst(pilot, "com.fintech.ca")
        await pilot.pause(0.1)
        await type_burst(pilot, "\t")
        assert _field(editor, "namespace").value == "com.fintech.cards"
        await type_burst(pilot, "p")
        await pilot.pause(0.1)
        await type_burst(pilot, "\tgbp")
        await pilot.pause(0.1)
        await type_burst(pilot, "\t")
        assert _field(editor, "name").value == "pool"
        assert _field(editor, "currency").value == "GBP"  # upper-cased; no GBP under cards: kept as typed
