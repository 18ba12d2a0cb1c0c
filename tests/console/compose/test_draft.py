"""The compose screen's rules without a terminal: statuses, field errors, JSON round trip."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.app.browse.entry_pager import EntryPager
from ledger_tui.app.compose.draft import LegDraft, check_draft, draft_from_data, draft_to_data
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.money import DEFAULT_CURRENCIES
from ledger_tui.domain.parse import entry_set_from_data, loads_exact

from ...support.console import fixed_id
from ...support.stores import SAMPLE_JSON


def _leg(side: str, amount: str, currency: str = "GBP", account: str = "a") -> LegDraft:
    return LegDraft("le", "ns", "name", currency, account, side, amount)


def test_status_names_the_heavier_side_per_currency() -> None:
    check = check_draft([_leg("debit", "150.00"), _leg("credit", "130")], DEFAULT_CURRENCIES)
    assert check.status == "Unbalanced: GBP debits exceed credits by 20.00"
    assert not check.ready
    balanced = check_draft([_leg("debit", "10"), _leg("credit", "10.00")], DEFAULT_CURRENCIES)
    assert balanced.status == "Balanced" and balanced.ready


def test_field_errors_come_from_the_domain_rules() -> None:
    drafts = [_leg("debit", "1.005"), _leg("credit", "x", currency="XYZ"), _leg("credit", "-1")]
    check = check_draft(drafts, DEFAULT_CURRENCIES)
    assert "more than 2 decimal places" in check.legs[0].errors["amount"]
    assert "unknown currency" in check.legs[1].errors["currency"]
    assert "not a plain decimal" in check.legs[1].errors["amount"]
    assert check.legs[2].errors["amount"]
    assert "legs to fix: 1, 2, 3" in check.status


def test_blank_legs_block_posting_without_shouting() -> None:
    check = check_draft([LegDraft(), LegDraft(side="credit")], DEFAULT_CURRENCIES)
    assert check.status.startswith("Empty draft")
    assert not check.ready
    assert check.legs[0].errors == {}


def test_sample_file_round_trips_through_the_draft() -> None:
    transaction_id, drafts = draft_from_data(loads_exact(SAMPLE_JSON))
    assert transaction_id is None and len(drafts) == 6
    assert check_draft(drafts, DEFAULT_CURRENCIES).ready
    data = draft_to_data(fixed_id(7), drafts)
    text = json.dumps(data)
    assert '"amount": "100"' in text  # amounts saved as strings, never floats
    entry_set = entry_set_from_data(loads_exact(text))
    assert entry_set.transaction_id == fixed_id(7)
    assert entry_set.legs[0].effective_at is not None
    assert entry_set.legs[0].amount == Decimal("100.00")


def test_pager_keeps_page_starts_and_running_balance() -> None:
    pager = EntryPager.starting_at(Decimal("5.00"))
    assert not pager.has_next and not pager.has_previous
    assert pager.page_loaded([], None) == []
    assert pager.seen_totals().count == 0


def test_draft_and_parser_share_one_leg_validator() -> None:
    # Once, a control character in the description showed "Balanced" here and was rejected on post.
    drafts = [_leg("debit", "10"), LegDraft("le", "ns", "name", "GBP", "b", "credit", "10", "bell\x01")]
    check = check_draft(drafts, DEFAULT_CURRENCIES)
    assert not check.ready
    assert check.legs[1].errors == {"description": "must not contain control characters"}
    with pytest.raises(ValidationError) as raised:
        entry_set_from_data(draft_to_data(fixed_id(8), drafts))
    assert [p.reason for p in raised.value.problems] == ["must not contain control characters"]


@settings(max_examples=200, deadline=None)
@given(
    amount=st.sampled_from(["10", "10.00", "10.001", "-1", "ten", "1e3", " 5 ", "0"]),
    currency=st.sampled_from(["GBP", "JPY", "XYZ", "gbp", ""]),
    account=st.sampled_from(["a", " a", "a/b", "", "x" * 300]),
    description=st.sampled_from(["", "ok", "tab\there", "nul\x00", "d" * 1100]),
    effective=st.sampled_from(["", "2024-09-01", "1727347200000", "tomorrow", "99999999999999999"]),
)
def test_a_leg_the_draft_accepts_is_exactly_the_leg_the_parser_builds(
    amount: str, currency: str, account: str, description: str, effective: str
) -> None:
    draft = LegDraft("le", "ns", "name", currency, account, "debit", amount, description, effective)
    check = check_draft([draft, dataclasses.replace(draft, side="credit")], DEFAULT_CURRENCIES)
    data = draft_to_data(fixed_id(9), [draft, dataclasses.replace(draft, side="credit")])
    try:
        parsed = entry_set_from_data(data)
    except ValidationError:
        assert not check.ready
    else:
        assert check.ready
        assert [c.leg for c in check.legs] == list(parsed.legs)


@pytest.mark.parametrize("side", ["CREDIT", None, "refund"])
def test_loaded_file_with_unknown_side_is_refused(side: object) -> None:
    entry = {"address": {"legal_entity": "a"}, "amount": "1.00", "type": side}
    with pytest.raises(ValueError, match=r"entries\[0\]\.type must be debit or credit"):
        draft_from_data({"entries": [entry]})
