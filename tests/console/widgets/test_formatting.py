"""Amounts and ids as the console shows them: grouped at display only, never rounded, ids shortened visibly."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ledger_tui.app.widgets.formatting import grouped, money_text, short_id
from ledger_tui.domain.money import DEFAULT_CURRENCIES


def test_amounts_are_grouped_at_display_only_and_never_rounded() -> None:
    assert money_text(Decimal("-1234567.5"), "GBP", DEFAULT_CURRENCIES) == "-1,234,567.50"
    assert money_text(Decimal("1000"), "JPY", DEFAULT_CURRENCIES) == "1,000"
    assert money_text(Decimal("0.001"), "GBP", DEFAULT_CURRENCIES) == "0.001"  # odd digits: shown, not cut
    assert grouped(Decimal("123456789012345678901234.125")) == "123,456,789,012,345,678,901,234.125"
    assert short_id(uuid.UUID("5a1b2df7-f2f4-47a9-8c3e-0c2f6d7b9e10")) == "5a1b2df7…9e10"
