"""The trial balance table keeps the end of a long account, where accounts differ."""

from __future__ import annotations

from ledger_tui.app.trial_balance.table import fitted


def test_a_long_account_keeps_its_end() -> None:
    assert fitted("fintech_uk/com.fintech.customer/current/GBP/alice", 12) == "…t/GBP/alice"  # 12 characters
    assert fitted("short", 12) == "short"
