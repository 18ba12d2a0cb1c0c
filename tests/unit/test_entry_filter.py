"""The entries filter: text, amount range and side, and a bad filter names its field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.entry_filter import EntryFilter
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.model import Address, Entry, Side

T0 = datetime(2024, 1, 1, tzinfo=UTC)


ACCOUNT = Address("le", "ns", "name", "GBP", "a")


def _entry(index: int, side: Side, cents: int, word: str) -> Entry:
    when = T0 + timedelta(hours=index)
    return Entry(ACCOUNT, side, Decimal(cents).scaleb(-2), word, when, uuid.UUID(int=index + 1), 0, when)


def test_the_filter_matches_text_amount_and_side() -> None:
    fee = _entry(0, Side.DEBIT, 1250, "Card FEE")
    where = EntryFilter.parse(" fee ", "10", "1,000.00", "debit")
    assert where(fee) and where.is_active
    assert not where(_entry(0, Side.CREDIT, 1250, "Card fee"))
    assert not where(_entry(0, Side.DEBIT, 999, "fee"))
    assert not where(_entry(0, Side.DEBIT, 100001, "fee"))
    assert where.describe() == "description has 'fee' · 10 ≤ amount ≤ 1000.00 · debits only"
    assert not EntryFilter().is_active and EntryFilter()(fee)


@pytest.mark.parametrize(
    ("low", "high", "side", "field"),
    [
        ("ten", "", "", "minimum"),
        ("", "-5", "", "maximum"),
        ("9", "5", "", "amount"),
        ("", "", "both", "side"),
    ],
)
def test_a_bad_filter_names_the_field(low: str, high: str, side: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        EntryFilter.parse("", low, high, side)
    assert raised.value.problems[0].field == field
