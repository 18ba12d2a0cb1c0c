"""Balances over a range (closing = opening + credits - debits), address patterns, named balances."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import AddressPattern, parse_address, parse_pattern
from ledger_tui.domain.balance import BalanceFold, BalanceRow
from ledger_tui.domain.errors import LedgerError, NotFound, ValidationError
from ledger_tui.domain.model import Address, Entry, Side
from ledger_tui.ledger import read_named_balances

START = datetime(2024, 10, 1, tzinfo=UTC)
END = datetime(2024, 11, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def account(currency: str = "GBP", account_id: str = "cust-1") -> Address:
    return Address("fintech_uk", "com.fintech.customer", "current", currency, account_id)


def entry(side: Side, amount: str, when: datetime, currency: str = "GBP", index: int = 0) -> Entry:
    return Entry(
        address=account(currency),
        side=side,
        amount=Decimal(amount),
        description="",
        effective_at=when,
        transaction_id=uuid.uuid4(),
        leg_index=index,
        recorded_at=when,
    )


def figures(row: BalanceRow) -> tuple[str, str, str, str, str]:
    data = row.to_json()
    return data["currency"], data["opening"], data["debits"], data["credits"], data["closing"]


# --- folding ----------------------------------------------------------------------------------


def test_fold_opening_movements_and_closing_per_currency() -> None:
    fold = BalanceFold(START, END)
    fold.add_all(
        [
            entry(Side.CREDIT, "100.00", START - timedelta(days=40)),
            entry(Side.DEBIT, "30.00", START - TICK),  # last instant before the range: opening
            entry(Side.DEBIT, "10.00", START),  # exactly at start: a movement
            entry(Side.CREDIT, "5.55", START + timedelta(days=3)),
            entry(Side.DEBIT, "0.10", END - TICK),  # last instant inside the range
            entry(Side.CREDIT, "999.99", END),  # exactly at end: excluded
            entry(Side.DEBIT, "999.99", END + timedelta(days=1)),  # after: excluded
            entry(Side.CREDIT, "1500", START + timedelta(days=1), "JPY"),
            entry(Side.DEBIT, "0.125", START - timedelta(days=1), "BHD"),
            entry(Side.CREDIT, "7.00", END, "EUR"),  # only excluded entries: no row at all
        ]
    )
    assert [figures(row) for row in fold.result()] == [
        ("BHD", "-0.125", "0.000", "0.000", "-0.125"),
        ("GBP", "70.00", "10.10", "5.55", "65.45"),
        ("JPY", "0", "0", "1500", "1500"),
    ]


def test_closing_is_exact() -> None:
    row = BalanceRow("GBP", Decimal("0.10"), Decimal("0.30"), Decimal("0.20"))
    assert row.closing == Decimal(0)
    big = BalanceRow("GBP", Decimal("1E+23"), Decimal("0.01"), Decimal(0))
    assert big.closing == Decimal("99999999999999999999999.99")
    assert BalanceRow("EUR").to_json() == {
        "currency": "EUR",
        "opening": "0",
        "debits": "0",
        "credits": "0",
        "closing": "0",
    }


def test_open_ended_ranges() -> None:
    entries = [
        entry(Side.CREDIT, "100.00", datetime(2000, 1, 1, tzinfo=UTC)),
        entry(Side.DEBIT, "40.00", datetime(2050, 1, 1, tzinfo=UTC)),
    ]
    everything = BalanceFold(None, None)
    everything.add_all(entries)
    assert [figures(r) for r in everything.result()] == [("GBP", "0.00", "40.00", "100.00", "60.00")]
    until = BalanceFold(None, datetime(2024, 1, 1, tzinfo=UTC))
    until.add_all(entries)
    assert [figures(r) for r in until.result()] == [("GBP", "0.00", "0.00", "100.00", "100.00")]
    since = BalanceFold(datetime(2024, 1, 1, tzinfo=UTC), None)
    since.add_all(entries)
    assert [figures(r) for r in since.result()] == [("GBP", "100.00", "40.00", "0.00", "60.00")]


def test_empty_fold_has_no_rows() -> None:
    fold = BalanceFold(START, END)
    fold.add_all([])
    assert fold.result() == []


DIGITS = {"GBP": 2, "JPY": 0, "BHD": 3}
fold_entries = st.lists(
    st.tuples(
        st.sampled_from(sorted(DIGITS)),
        st.sampled_from(list(Side)),
        st.integers(1, 10**15),
        st.integers(-5, 40),  # day offset from START; the range is 31 days long
        st.sampled_from([timedelta(0), TICK, -TICK]),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(fold_entries, st.booleans(), st.booleans())
def test_fold_matches_integer_arithmetic(
    raw: list[tuple[str, Side, int, int, timedelta]], bounded_start: bool, bounded_end: bool
) -> None:
    start = START if bounded_start else None
    end = END if bounded_end else None
    entries = [
        entry(side, str(Decimal(units).scaleb(-DIGITS[code])), START + timedelta(days=day) + nudge, code)
        for code, side, units, day, nudge in raw
    ]
    fold = BalanceFold(start, end)
    for item in entries:
        fold.add_entry(item)
    expected: dict[str, list[int]] = {}
    for (code, side, units, _, _), item in zip(raw, entries, strict=True):
        when = item.effective_at
        if end is not None and when >= end:
            continue
        expected.setdefault(code, [0, 0, 0])
        if start is not None and when < start:
            expected[code][0] += units if side is Side.CREDIT else -units
        elif side is Side.DEBIT:
            expected[code][1] += units
        else:
            expected[code][2] += units
    rows = fold.result()
    assert [row.currency for row in rows] == sorted(expected)
    for row in rows:
        opening, debits, credits = expected[row.currency]
        scale = -DIGITS[row.currency]
        assert (row.opening, row.debits, row.credits) == tuple(
            Decimal(v).scaleb(scale) for v in (opening, debits, credits)
        )
        assert row.closing == Decimal(opening + credits - debits).scaleb(scale)
        for figure in (row.opening, row.debits, row.credits, row.closing):
            assert figure.as_tuple().exponent == scale  # always shown in the currency's digits


# --- addresses and patterns -------------------------------------------------------------------


def test_parse_address() -> None:
    assert parse_address("fintech_uk/com.fintech.account/main/GBP/*") == Address(
        "fintech_uk", "com.fintech.account", "main", "GBP", "*"
    )
    assert parse_address("a/b/c/EUR/cust-000001").account_id == "cust-000001"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("a/b/c/GBP", "address", "must have 5 parts"),
        ("a/b/c/GBP/x/y", "address", "must have 5 parts"),
        ("", "address", "must have 5 parts"),
        ("/b/c/GBP/x", "address.legal_entity", "must not be empty"),
        ("a//c/GBP/x", "address.namespace", "must not be empty"),
        ("a/b/c\x01/GBP/x", "address.name", "control characters"),
        ("a/b/c/ /x", "address.currency", "must not be empty"),
        ("a/b/c/GBP/ x", "address.account_id", "must not contain space separator characters"),
        ("a/b/c/GBP/" + "x" * 300, "address.account_id", "is longer than 256 characters"),
    ],
)
def test_parse_address_names_the_bad_part(text: str, field: str, reason: str) -> None:
    for parse in (parse_address, parse_pattern):
        with pytest.raises(ValidationError) as caught:
            parse(text)
        [problem] = caught.value.problems
        assert problem.field == field
        assert reason in problem.reason


def test_custom_field_name_prefixes_the_part() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_pattern("a/b//GBP/*", "fees.addresses[2]")
    assert caught.value.problems[0].field == "fees.addresses[2].name"
    with pytest.raises(ValidationError) as caught:
        parse_address("nope", "--account")
    assert caught.value.problems[0].field == "--account"
    assert "'nope' must have 5 parts" in caught.value.problems[0].reason


def test_wildcard_pattern_matches_every_account_under_the_prefix() -> None:
    pattern = parse_pattern("fintech_uk/com.fintech.customer/current/GBP/*")
    assert pattern.is_wildcard
    assert pattern.prefix() == ("fintech_uk", "com.fintech.customer", "current", "GBP")
    assert str(pattern) == "fintech_uk/com.fintech.customer/current/GBP/*"
    assert pattern.matches(account("GBP", "cust-1"))
    assert pattern.matches(account("GBP", "cust-999999"))
    assert pattern.matches(account("GBP", "*"))  # a literal '*' account (the origin's sample) too
    assert not pattern.matches(account("EUR", "cust-1"))
    for other in (
        Address("fintech_eu", "com.fintech.customer", "current", "GBP", "cust-1"),
        Address("fintech_uk", "com.fintech.account", "current", "GBP", "cust-1"),
        Address("fintech_uk", "com.fintech.customer", "savings", "GBP", "cust-1"),
    ):
        assert not pattern.matches(other)


def test_exact_pattern_matches_one_account() -> None:
    pattern = parse_pattern("fintech_uk/com.fintech.customer/current/GBP/cust-1")
    assert not pattern.is_wildcard
    assert pattern.matches(account("GBP", "cust-1"))
    assert not pattern.matches(account("GBP", "cust-10"))
    assert not pattern.matches(account("GBP", "*"))
    assert AddressPattern(*account("GBP", "cust-1").as_tuple()).matches(account("GBP", "cust-1"))


# --- named balances ---------------------------------------------------------------------------


def test_sample_named_balances() -> None:
    balances = read_named_balances(None)
    assert set(balances) == {
        "customer-facing-balance",
        "customer-facing-balance-eu",
        "customer-facing-balance-all",
        "fees-income",
        "interest-expense",
        "main-account",
    }
    everyone = balances["customer-facing-balance-all"]
    assert everyone.name == "customer-facing-balance-all"
    assert [p.currency for p in everyone.patterns] == ["GBP", "EUR", "USD"]
    assert all(p.is_wildcard for b in balances.values() for p in b.patterns)
    assert balances["customer-facing-balance"].description.startswith("What the bank owes")
    main = balances["main-account"]
    assert [str(p) for p in main.patterns] == ["fintech_uk/com.fintech.account/main/GBP/*"]
    assert main.patterns[0].matches(Address("fintech_uk", "com.fintech.account", "main", "GBP", "*"))
    assert not main.patterns[0].matches(Address("fintech_uk", "com.fintech.account", "main", "EUR", "*"))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balances.toml"
    path.write_text(text)
    return path


def test_minimal_and_empty_files(tmp_path: Path) -> None:
    assert read_named_balances(_write(tmp_path, "")) == {}
    loaded = read_named_balances(_write(tmp_path, '[x]\naddresses = ["a/b/c/GBP/acct"]\n'))
    assert loaded["x"].description == ""
    assert loaded["x"].patterns == (AddressPattern("a", "b", "c", "GBP", "acct"),)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("[x]\ndescription = 'no addresses'\n", "x.addresses", "must be a list of address patterns"),
        ("[x]\naddresses = 'a/b/c/GBP/*'\n", "x.addresses", "must be a list of address patterns"),
        ("[x]\naddresses = []\n", "x.addresses", "must not be empty"),
        ("x = 1\n", "x.addresses", "must be a list of address patterns"),
        ("[x]\naddresses = ['a/b/c/GBP/*', 'a/b/c/GBP']\n", "x.addresses[1]", "must have 5 parts"),
        ("[x]\naddresses = ['a/b/c/GBP/*', 'a//c/GBP/*']\n", "x.addresses[1].namespace", "must not be empty"),
        (
            "[ok]\naddresses = ['a/b/c/GBP/*']\n[bad]\naddresses = [7]\n",
            "bad.addresses[0]",
            "must have 5 parts",
        ),
    ],
)
def test_bad_named_balances_are_explained(tmp_path: Path, text: str, field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_named_balances(_write(tmp_path, text))
    [problem] = caught.value.problems
    assert problem.field == field
    assert reason in problem.reason


@pytest.mark.parametrize("text", ["[x\naddresses = []", "[x]\naddresses = [", "[x]\n[x]\n", "= 1"])
def test_invalid_toml_names_the_file(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValidationError) as caught:
        read_named_balances(path)
    [problem] = caught.value.problems
    assert problem.field == str(path)
    assert problem.reason.startswith("is not valid TOML: ")


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(NotFound, match="does not exist") as caught:
        read_named_balances(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("kind", ["not utf-8", "directory"])
def test_unreadable_files_are_ledger_errors(tmp_path: Path, kind: str) -> None:
    # The CLI turns LedgerError into "rejected: ..."; anything else is a traceback.
    if kind == "directory":
        path = tmp_path / "balances.toml"
        path.mkdir()
    else:
        path = tmp_path / "balances.toml"
        path.write_bytes(b'[x]\ndescription = "caf\xe9"\naddresses = ["a/b/c/GBP/*"]\n')
    with pytest.raises(LedgerError) as caught:
        read_named_balances(path)
    assert str(path) in str(caught.value)
