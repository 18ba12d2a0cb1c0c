"""The trial balance in the domain: levels sum their accounts per currency, an unbalanced currency is named, exports are exact."""

from __future__ import annotations

from decimal import Decimal

from ledger_tui.domain.balance import BalanceRow
from ledger_tui.domain.holds import Pending
from ledger_tui.domain.model import Address
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.domain.trial_balance import TrialBalance

D = Decimal


ROWS: dict[tuple[str, ...], BalanceRow] = {
    ("uk", "cust", "cur", "GBP", "a"): BalanceRow("GBP", D("10.00"), D("1.25"), D("0.00"), 1),
    ("uk", "cust", "cur", "GBP", "b"): BalanceRow("GBP", D("-10.00"), D("0.00"), D("1.25"), 1),
    ("uk", "fees", "main", "EUR", "x"): BalanceRow("EUR", D("0.00"), D("3.10"), D("3.10"), 2),
}


def test_levels_sum_their_accounts_per_currency() -> None:
    balance = TrialBalance(TimeRange(), ROWS, 5)
    [eur, gbp] = balance.lines(1)
    assert (eur.path, eur.currency, eur.debits, eur.credits) == (("uk",), "EUR", D("3.10"), D("3.10"))
    assert (gbp.opening, gbp.debits, gbp.credits, gbp.closing, gbp.count) == (0, D("1.25"), D("1.25"), 0, 2)
    assert [line.path for line in balance.lines(2)] == [("uk", "cust"), ("uk", "fees")]
    assert balance.lines(5)[0].closing == D("8.75")  # 10.00 + 0.00 - 1.25
    assert balance.unbalanced() == []


def test_an_unbalanced_currency_is_named() -> None:
    rows = dict(ROWS)
    rows[("uk", "cust", "cur", "GBP", "a")] = BalanceRow("GBP", D("10.00"), D("1.26"), D("0.00"), 1)
    assert TrialBalance(TimeRange(), rows, 5).unbalanced() == ["GBP"]


def test_export_has_the_lines_and_totals_as_exact_text() -> None:
    table = TrialBalance(TimeRange(), ROWS, 5).export(4)
    assert table.columns[:3] == ("account", "currency", "opening")
    assert [row[0] for row in table.rows] == ["uk/cust/cur/GBP", "uk/fees/main/EUR", "TOTAL", "TOTAL"]
    assert table.rows[0][2:6] == ("0.00", "1.25", "1.25", "0.00")


HELD = {
    Address("uk", "cust", "cur", "GBP", "a"): Pending(D("4.00"), D("0")),
    Address("uk", "cust", "cur", "GBP", "new"): Pending(D("0"), D("4.00")),  # held only: no entries
}


def test_pending_sits_beside_the_posted_figures_at_every_level() -> None:
    balance = TrialBalance(TimeRange(), ROWS, 5, HELD)
    assert balance.held
    accounts = {line.label: line for line in balance.lines(5)}
    assert (accounts["uk/cust/cur/GBP/a"].pending_debits, accounts["uk/cust/cur/GBP/a"].available) == (
        D("4.00"),
        D("4.75"),  # closing 8.75 less 4.00 held
    )
    fresh = accounts["uk/cust/cur/GBP/new"]
    assert (fresh.opening, fresh.closing, fresh.count, fresh.pending_credits) == (0, 0, 0, D("4.00"))
    [gbp_total] = [t for t in balance.totals() if t.currency == "GBP"]
    assert (gbp_total.pending_debits, gbp_total.pending_credits, gbp_total.debits) == (
        D("4.00"),
        D("4.00"),
        D("1.25"),
    )
    assert balance.unbalanced() == []
    assert not TrialBalance(TimeRange(), ROWS, 5).held


def test_pending_that_does_not_balance_is_named() -> None:
    lopsided = {Address("uk", "fees", "main", "EUR", "x"): Pending(D("1.00"), D("0"))}
    assert TrialBalance(TimeRange(), ROWS, 5, lopsided).unbalanced() == ["EUR"]


def test_export_has_the_pending_columns_and_the_available_balance() -> None:
    table = TrialBalance(TimeRange(), ROWS, 5, HELD).export(5)
    assert table.columns[-3:] == ("pending_debits", "pending_credits", "available")
    first = table.rows[0]
    assert first[0] == "uk/cust/cur/GBP/a" and first[-3:] == ("4.00", "0", "4.75")
