"""Typing a draft: every key lands, completions stay in scope, amounts and times are read exactly, lookalikes are refused."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from textual.widgets import Input, Static

from ledger_tui.app.compose.draft import check_leg, effective_time
from ledger_tui.app.compose.leg_editor import LegEditor
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.money import DEFAULT_CURRENCIES
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.engine import Engine

from ...support.console import (
    NOW,
    SIZE,
    TOP_UP,
    fixed_id,
    make_app,
    post_draft,
    post_sample,
    receipt_text,
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
        assert "recorded" in receipt_text(app.screen)
    [row] = await engine.balance(Address(*dataclasses.astuple(TOP_UP[1])[:5]))
    assert row.credits == Decimal("1000.50") + Decimal("1300.00")  # the sample's credits plus this one


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


@pytest.mark.parametrize(
    ("account_id", "reason"),
    [
        ("ops\u202e", "format characters such as U+202E"),  # right-to-left override
        ("e\u0301", "NFC"),  # é decomposed: would be a lookalike of the composed account
        ("o\u00a0ps", "space separator characters such as U+00A0"),
        ("ops\u200b", "format characters such as U+200B"),  # zero-width space
    ],
)
async def test_lookalike_address_part_is_a_field_error_and_nothing_is_posted(
    engine: Engine, account_id: str, reason: str
) -> None:
    app = make_app(engine, "compose")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        hostile = [dataclasses.replace(TOP_UP[0], account_id=account_id), TOP_UP[1]]
        compose = await post_draft(pilot, hostile)
        errors = str(compose.query(".leg-errors").first(Static).render())
        assert "account_id: " in errors and reason in errors  # the leg's own line names the field
        assert reason in check_leg(hostile[0], DEFAULT_CURRENCIES).errors["account_id"]
        assert "recorded" not in str(compose.query_one("#receipt", Static).render())
    report = await engine.verify()
    assert (report.transactions, report.entries) == (0, 0)


def test_console_effective_time_takes_ascii_digits_only() -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        effective_time("١٧٢٧٣٤٧٢٠٠٠٠٠")  # Arabic-Indic digits: never epoch milliseconds
    with pytest.raises(ValueError, match="between 1970"):
        effective_time("9" * 40)  # bounded before any number is computed
    assert effective_time("1727347200000").year == 2024
