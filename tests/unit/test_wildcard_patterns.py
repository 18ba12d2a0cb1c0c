"""``*`` at any level of a pattern: what it matches, and that an address still refuses it."""

from __future__ import annotations

import pytest

from ledger_tui.domain.address import parse_address, parse_pattern
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.model import Address

UK_ALICE = Address("fintech_uk", "com.fintech.customer", "current", "GBP", "alice")
EU_BRUNO = Address("fintech_eu", "com.fintech.customer", "current", "EUR", "bruno")
UK_FEES = Address("fintech_uk", "com.fintech.revenue", "fees", "GBP", "main")


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("*/*/*/*/*", {UK_ALICE, EU_BRUNO, UK_FEES}),
        ("fintech_uk/*/*/*/*", {UK_ALICE, UK_FEES}),
        ("*/com.fintech.customer/current/*/*", {UK_ALICE, EU_BRUNO}),
        ("*/*/*/GBP/*", {UK_ALICE, UK_FEES}),
        ("*/*/fees/GBP/main", {UK_FEES}),
        ("fintech_uk/*/current/EUR/*", set()),
    ],
)
def test_a_wildcard_matches_any_value_at_its_level(text: str, matched: set[Address]) -> None:
    pattern = parse_pattern(text, any_level=True)
    assert str(pattern) == text
    assert {a for a in (UK_ALICE, EU_BRUNO, UK_FEES) if pattern.matches(a)} == matched
    assert pattern.has_open_prefix == ("*" in text.split("/")[:4])


def test_an_address_and_an_origin_pattern_take_star_as_the_account_only() -> None:
    for parse in (parse_address, parse_pattern):
        with pytest.raises(ValidationError) as caught:
            parse("fintech_uk/*/current/GBP/alice")
        assert caught.value.problems[0].field == "address.namespace"
        assert "only account_id may be the wildcard" in caught.value.problems[0].reason


def test_a_wildcard_currency_skips_the_currency_shape_check_only() -> None:
    assert parse_pattern("a/b/c/*/d", any_level=True).currency == "*"
    with pytest.raises(ValidationError):
        parse_pattern("a/b/c/gbp/*", any_level=True)
