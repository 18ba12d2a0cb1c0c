"""The Beancount export's pure parts: names Beancount's grammar accepts, reversibly; exact amounts.

Account components and commodities are held to Beancount's own lexer patterns (copied from its
grammar), strings to its escapes, and a set split over days to one balanced piece per day.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.beancount import (
    TRANSIT,
    BeancountBooks,
    BeancountError,
    account,
    address_of,
    commodity,
    component,
    part_of,
    string,
)
from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.money import Currencies

#: Beancount v3's lexer: ACCOUNTNAME restricted to ASCII (what the export promises).
_COMPONENT = re.compile(r"[A-Z0-9][A-Za-z0-9\-]*\Z")
WHEN = datetime(2024, 9, 1, 12, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_every_part_becomes_one_valid_component_and_comes_back(part: str) -> None:
    name = component(part)
    assert _COMPONENT.match(name), name
    assert part_of(name) == part


@pytest.mark.parametrize(
    ("part", "name"),
    [("GBP", "GBP"), ("Main", "Main"), ("7up", "7up"), ("fintech_uk", "Xfintech-5Fuk"), ("X", "XX"),
     ("Xavier", "XXavier"), ("acc-1", "Xacc-2D1"), ("*", "X-2A"), ("", "X"), ("a:b", "Xa-3Ab"),
     ('q"\\', "Xq-22-5C"), ("é", "X-C3-A9")],
)  # fmt: skip
def test_components_are_readable_where_they_can_be(part: str, name: str) -> None:
    assert component(part) == name


def test_an_account_names_its_address_under_assets_and_back() -> None:
    address = Address("fintech_uk", "com.fintech.customer", "current", "GBP", "cust-000001")
    name = account(address)
    assert name == "Assets:Xfintech-5Fuk:Xcom-2Efintech-2Ecustomer:Xcurrent:GBP:Xcust-2D000001"
    assert address_of(name) == address
    with pytest.raises(ValueError, match="not an address account"):
        address_of(TRANSIT)


def test_a_currency_beancount_cannot_name_is_refused_by_name() -> None:
    assert commodity("KWD") == "KWD"
    for code in ("X", "gbp", "G-", "1AB", "A" * 25):
        with pytest.raises(BeancountError, match=re.escape(repr(code))):
            commodity(code)


def test_strings_escape_quotes_backslashes_and_line_breaks() -> None:
    assert string('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert string("1\n2\t3") == '"1\\n2\\t3"'
    assert string("bell\x07 sep\u2028 café ✓") == '"bell\ufffd sep\ufffd café ✓"'


def _set(*legs: tuple[str, Side, str, str, int]) -> RecordedTransaction:
    built = tuple(
        Leg(
            Address("le", "ns", "nm", code, account_id),
            side,
            Decimal(amount),
            "",
            WHEN + timedelta(days=days),
        )
        for account_id, side, amount, code, days in legs
    )
    return RecordedTransaction(uuid.uuid4(), built, "hash", WHEN + timedelta(days=9))


def test_a_set_over_several_days_is_one_balanced_transaction_per_day() -> None:
    books = BeancountBooks(Currencies())
    text = books.transactions(
        _set(("a", Side.DEBIT, "5.00", "GBP", 0), ("b", Side.CREDIT, "3.00", "GBP", 0),
             ("c", Side.CREDIT, "2.00", "GBP", 1), ("a", Side.DEBIT, "1.005", "KWD", 1),
             ("b", Side.CREDIT, "1.005", "KWD", 1))
    )  # fmt: skip
    pieces = text.strip().split("\n\n")
    assert [piece[:10] for piece in pieces] == ["2024-09-01", "2024-09-02"]
    for piece in pieces:
        nets: dict[str, Decimal] = defaultdict(Decimal)
        for line in piece.splitlines():
            if line.startswith(("  Assets:", f"  {TRANSIT}")):
                number, code = line.split()[1:]
                nets[code] += Decimal(number)
        assert not any(nets.values()), piece
    assert f"  {TRANSIT}  -2.00 GBP" in pieces[0] and f"  {TRANSIT}  2.00 GBP" in pieces[1]
    assert "KWD" not in pieces[0] and "1.005 KWD" in pieces[1]  # balanced on its day: no transit
    directives = books.directives()
    assert "2024-09-01 open Assets:Xle:Xns:Xnm:GBP:Xa GBP" in directives
    assert "2024-09-02 open Assets:Xle:Xns:Xnm:KWD:Xa KWD" in directives
    assert f"2024-09-01 open {TRANSIT} GBP\n" in directives and "2024-09-01 commodity GBP" in directives


def test_an_amount_finer_than_its_currency_is_refused_naming_set_and_leg() -> None:
    transaction = _set(("a", Side.DEBIT, "1.001", "GBP", 0), ("b", Side.CREDIT, "1.001", "GBP", 0))
    with pytest.raises(BeancountError, match=rf"set {transaction.transaction_id} leg 0: 1.001 GBP"):
        BeancountBooks(Currencies()).transactions(transaction)
    unknown = _set(("a", Side.DEBIT, "1", "ZZZ", 0), ("b", Side.CREDIT, "1", "ZZZ", 0))
    with pytest.raises(BeancountError, match="currency 'ZZZ'"):
        BeancountBooks(Currencies()).transactions(unknown)
