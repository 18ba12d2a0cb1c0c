"""The in-memory account search: every word must appear, best matches first, counts exact."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.app.widgets.accounts import AccountIndex
from ledger_tui.domain.model import Address

ACCOUNTS = [
    Address("bank_uk", "com.bank.customer", "current", "GBP", "alice"),
    Address("bank_uk", "com.bank.customer", "current", "GBP", "malice"),
    Address("bank_uk", "com.bank.customer", "savings", "GBP", "alice2"),
    Address("bank_eu", "com.bank.customer", "current", "EUR", "alice"),
    Address("bank_eu", "com.bank.revenue", "fees", "EUR", "main"),
]


def test_every_word_must_appear_in_any_order_and_case() -> None:
    found = AccountIndex(ACCOUNTS).search("eur ALICE")
    assert found.addresses == (ACCOUNTS[3],) and found.total == 1


def test_a_whole_part_ranks_before_a_part_start_before_inside() -> None:
    found = AccountIndex(ACCOUNTS).search("alice")
    assert found.addresses[:2] == (ACCOUNTS[3], ACCOUNTS[0])  # exact account id, address order
    assert found.addresses[2:] == (ACCOUNTS[2], ACCOUNTS[1])  # starts with, then inside


def test_the_limit_keeps_the_total() -> None:
    found = AccountIndex(ACCOUNTS).search("bank", limit=2)
    assert len(found.addresses) == 2 and found.total == 5
    assert AccountIndex(ACCOUNTS).search("", limit=3).total == 5


@given(st.text(alphabet="abcegilmnrsuEGPU_/ .", max_size=8), st.randoms())
def test_matches_are_exactly_the_accounts_containing_every_word(query: str, rng: random.Random) -> None:
    accounts = list(ACCOUNTS)
    rng.shuffle(accounts)
    found = AccountIndex(accounts).search(query, limit=100)
    words = query.casefold().split()
    expected = {a for a in ACCOUNTS if all(w in str(a).casefold() for w in words)}
    assert set(found.addresses) == expected and found.total == len(expected)
