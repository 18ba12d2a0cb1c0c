"""Amounts as operators type them: ``1,000.50`` is accepted, a misplaced separator is refused."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.app.compose.draft import LegDraft, check_leg, draft_to_data
from ledger_tui.domain.money import AmountError, Currencies, ungroup_amount


@given(st.integers(min_value=1000, max_value=10**20), st.integers(min_value=0, max_value=99))
def test_correctly_grouped_amounts_read_as_the_plain_number(whole: int, cents: int) -> None:
    typed = f"{whole:,}.{cents:02d}"
    assert "," in typed
    assert Decimal(ungroup_amount(typed)) == Decimal(f"{whole}.{cents:02d}")


@given(st.integers(min_value=1000, max_value=10**12), st.integers(min_value=1, max_value=4))
def test_a_separator_moved_out_of_its_group_is_refused(whole: int, shift: int) -> None:
    grouped = f"{whole:,}"
    at = grouped.index(",")
    digits = grouped.replace(",", "")
    moved = at + shift if at + shift < len(digits) else at - 1
    if moved <= 0 or (len(digits) - moved) % 3 == 0:
        return  # still a correct grouping (or nothing to move)
    typed = digits[:moved] + "," + digits[moved:]
    with pytest.raises(AmountError):
        ungroup_amount(typed)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1,00.5", "thousands separators go between groups of three digits"),
        ("10,00,000", "thousands separators go between groups of three digits"),
        (",100", "thousands separators go between groups of three digits"),
        ("1000,5", "uses ',' as a decimal mark"),
        ("1.000,50", "after the decimal point"),
    ],
)
def test_misplaced_separators_are_refused_with_the_reason(typed: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        ungroup_amount(typed)
    assert reason in str(caught.value)
    check = check_leg(LegDraft("le", "ns", "n", "GBP", "a", "debit", typed), Currencies())
    assert check.leg is None
    assert reason in check.errors["amount"]


def test_a_grouped_amount_builds_the_leg_and_saves_without_separators() -> None:
    draft = LegDraft("le", "ns", "n", "GBP", "a", "debit", "1,000.50")
    check = check_leg(draft, Currencies())
    assert check.leg is not None and check.leg.amount == Decimal("1000.50")
    assert check.errors == {}
    data = draft_to_data(uuid.UUID(int=1), [draft])
    assert data["entries"][0]["amount"] == "1000.50"  # type: ignore[index]


def test_text_without_a_comma_is_left_to_the_ordinary_checks() -> None:
    assert ungroup_amount("12.5") == "12.5"
    assert ungroup_amount("ten") == "ten"
