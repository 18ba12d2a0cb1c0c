"""Snapshots of compose: empty, balanced, field errors, the receipt and the new-account question, at 120x40 and 80x24."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.engine import Engine

from ...support.console import SIZE, SMALL, SnapCompare, make_app, settle


def _leg(
    address: tuple[str, str, str, str, str], side: str, amount: str, description: str = "", when: str = ""
) -> LegDraft:
    return LegDraft(*address, side=side, amount=amount, description=description, effective=when)


BALANCED = [
    _leg(
        ("fintech_uk", "com.fintech.account", "main", "GBP", "ops"), "debit", "150.00", "Top-up", "2024-11-02"
    ),
    _leg(("fintech_uk", "com.fintech.customer", "current", "GBP", "alice"), "credit", "150.00", "Top-up"),
]


UNBALANCED = [
    _leg(("fintech_uk", "com.fintech.account", "main", "GBP", "ops"), "debit", "150.00", "Top-up"),
    _leg(("fintech_uk", "com.fintech.customer", "current", "GBP", "alice"), "credit", "130.00", "Top-up"),
    _leg(("fintech_uk", "com.fintech.customer", "current", "GBP", "bob"), "credit", "12.345", "Too precise"),
    _leg(("fintech_uk", "com.fintech/customer", "current", "XYZ", "carol"), "credit", "ten", "Bad fields"),
]


def _compose(drafts: list[LegDraft], post: bool = False) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ComposeScreen)
        await screen.set_draft(drafts)
        if post:
            await pilot.press("ctrl+s")
        await settle(pilot)

    return run_before


OPS_PARTS = ("fintech_uk", "com.fintech.account", "main", "GBP", "ops")


ALICE_PARTS = ("fintech_uk", "com.fintech.customer", "current", "GBP", "alice")


def test_compose_empty(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=settle)


def test_compose_balanced(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(BALANCED))


def test_compose_unbalanced_with_field_errors(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(UNBALANCED))


def test_compose_receipt(snap_compare: SnapCompare, ledger: Engine) -> None:
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(BALANCED, post=True))


def test_compose_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Narrow: side and amount move to the second row; every address part stays readable."""
    assert snap_compare(make_app(ledger), terminal_size=SMALL, run_before=_compose(BALANCED))


def test_new_account_confirmation(snap_compare: SnapCompare, ledger: Engine) -> None:
    """Posting to an address the ledger has never seen asks first, listing the new accounts."""
    typo = [
        BALANCED[0],
        LegDraft(*("fintech_uk", "com.fintech.cu", "current", "GBP", "alice"), "credit", "150.00"),
    ]
    assert snap_compare(make_app(ledger), terminal_size=SIZE, run_before=_compose(typo, post=True))


def test_compose_field_errors_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    """A misplaced thousands separator is named on its leg; 1,000.50 is accepted."""
    drafts = [
        LegDraft(*OPS_PARTS, side="debit", amount="1,000.50", description="Top-up"),
        LegDraft(*ALICE_PARTS, side="credit", amount="1,00.5", description="Top-up"),
    ]
    assert snap_compare(make_app(ledger), terminal_size=SMALL, run_before=_compose(drafts))


def test_new_account_confirmation_80x24(snap_compare: SnapCompare, ledger: Engine) -> None:
    typo = ("fintech_uk", "com.fintech.cu", "current", "GBP", "alice")
    drafts = [
        LegDraft(*OPS_PARTS, side="debit", amount="150.00", description="Top-up"),
        LegDraft(*typo, side="credit", amount="150.00", description="Top-up"),
    ]
    assert snap_compare(make_app(ledger), terminal_size=SMALL, run_before=_compose(drafts, post=True))
