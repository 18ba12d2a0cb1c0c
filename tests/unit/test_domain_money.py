"""Money rules: ISO 4217 precision, exact Decimal amounts, no silent rounding anywhere."""

from __future__ import annotations

from decimal import Decimal, Inexact

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.money import (
    DEFAULT_CURRENCIES,
    ISO_4217_DIGITS,
    MAX_INTEGER_DIGITS,
    AmountError,
    Currencies,
    CurrencyError,
    money_sum,
    parse_amount,
    quantize,
)

DIGITS = {"GBP": 2, "EUR": 2, "USD": 2, "JPY": 0, "BHD": 3, "KWD": 3}


def amount(value: object, currency: str = "GBP", currencies: Currencies = DEFAULT_CURRENCIES) -> Decimal:
    return parse_amount(value, currency, currencies)


# --- currencies -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "digits"), sorted(DIGITS.items()))
def test_minor_unit_digits_follow_iso_4217(code: str, digits: int) -> None:
    assert DEFAULT_CURRENCIES.digits(code) == digits
    assert DEFAULT_CURRENCIES.quantum(code) == Decimal(1).scaleb(-digits)
    assert DEFAULT_CURRENCIES.quantum(code).as_tuple().exponent == -digits


def test_registry_covers_the_usual_suspects_and_nothing_malformed() -> None:
    assert len(ISO_4217_DIGITS) > 150
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217_DIGITS)
    assert all(0 <= digits <= 4 for digits in ISO_4217_DIGITS.values())
    assert {code for code, d in ISO_4217_DIGITS.items() if d == 3} >= {"BHD", "KWD", "JOD", "OMR", "TND"}
    assert {code for code, d in ISO_4217_DIGITS.items() if d == 0} >= {"JPY", "KRW", "ISK"}


@pytest.mark.parametrize("code", ["XTS", "ABC", "BTC", "XXX"])
def test_unknown_codes_are_rejected_by_name(code: str) -> None:
    with pytest.raises(CurrencyError, match=f"unknown currency '{code}'"):
        DEFAULT_CURRENCIES.digits(code)


@pytest.mark.parametrize("code", ["gbp", "Gbp", "GB", "GBPX", "", " GBP", "GBP ", "G1P", "ÄBC", 826, None])
def test_malformed_codes_are_rejected(code: object) -> None:
    with pytest.raises(CurrencyError, match="three-letter upper-case ISO 4217 code"):
        DEFAULT_CURRENCIES.digits(code)  # type: ignore[arg-type]


def test_extra_currencies_are_accepted_only_where_configured() -> None:
    custom = Currencies(extra={"XTS": 4, "BTC": 8, "JPY": 2})
    assert custom.digits("XTS") == 4
    assert custom.digits("BTC") == 8
    assert custom.quantum("BTC") == Decimal("0.00000001")
    assert custom.digits("JPY") == 2  # an override applies to this registry only
    assert custom.digits("GBP") == 2  # the ISO table is still there
    assert amount("0.00000001", "BTC", custom) == Decimal("0.00000001")
    # The default registry is untouched by another instance's configuration.
    assert DEFAULT_CURRENCIES.digits("JPY") == 0
    with pytest.raises(CurrencyError, match="unknown currency 'BTC'"):
        DEFAULT_CURRENCIES.digits("BTC")
    with pytest.raises(CurrencyError):
        amount("1", "BTC")


@pytest.mark.parametrize("extra", [{"xts": 2}, {"XT": 2}, {"XTS1": 2}, {"XTS": -1}, {"XTS": 9}])
def test_bad_currency_configuration_is_rejected(extra: dict[str, int]) -> None:
    with pytest.raises(CurrencyError, match="bad currency configuration"):
        Currencies(extra=extra)


def test_format_renders_the_currency_digits_and_never_rounds() -> None:
    assert DEFAULT_CURRENCIES.format(Decimal(5), "GBP") == "5.00"
    assert DEFAULT_CURRENCIES.format(Decimal("5.1"), "BHD") == "5.100"
    assert DEFAULT_CURRENCIES.format(Decimal("1500.00"), "JPY") == "1500"
    with pytest.raises(Inexact):
        DEFAULT_CURRENCIES.format(Decimal("5.001"), "GBP")
    with pytest.raises(Inexact):
        DEFAULT_CURRENCIES.format(Decimal("1500.5"), "JPY")


# --- parse_amount: accepted -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (100, "GBP", "100.00"),
        (Decimal(100), "GBP", "100.00"),
        (Decimal("100.5"), "GBP", "100.50"),
        (Decimal("0.01"), "GBP", "0.01"),
        ("100", "GBP", "100.00"),
        ("  100.25  ", "GBP", "100.25"),
        ("1e2", "GBP", "100.00"),
        ("1.5E+3", "EUR", "1500.00"),
        (Decimal("1E+17"), "GBP", "100000000000000000.00"),
        ("1500", "JPY", "1500"),
        (Decimal("1500.00"), "JPY", "1500"),
        ("1.234", "BHD", "1.234"),
        ("0.001", "KWD", "0.001"),
        ("7", "USD", "7.00"),
    ],
)
def test_accepted_amounts_are_exact_and_scaled_to_the_currency(
    value: object, currency: str, expected: str
) -> None:
    parsed = amount(value, currency)
    assert isinstance(parsed, Decimal)
    assert str(parsed) == expected
    assert parsed.as_tuple().exponent == -DIGITS[currency]


def test_trailing_zeros_are_not_extra_precision() -> None:
    # "100.000" has three decimals but the third is zero: the value fits GBP exactly, so it is
    # accepted and stored in GBP's own scale (100.00), indistinguishable from "100".
    parsed = amount("100.000")
    assert parsed == Decimal(100)
    assert str(parsed) == "100.00"
    assert parsed.as_tuple() == amount("100").as_tuple() == amount(Decimal("100.0000000")).as_tuple()
    assert str(amount("2.500000", "BHD")) == "2.500"
    assert str(amount("42.0", "JPY")) == "42"


def test_the_largest_allowed_amount_is_kept_to_the_last_digit() -> None:
    biggest = "9" * MAX_INTEGER_DIGITS + ".99"
    assert str(amount(biggest)) == biggest
    assert amount(biggest) - amount("9" * MAX_INTEGER_DIGITS + ".98") == Decimal("0.01")


# --- parse_amount: rejected -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "reason"),
    [
        (Decimal("NaN"), "GBP", "must be finite"),
        (Decimal("sNaN"), "GBP", "must be finite"),
        (Decimal("Infinity"), "GBP", "must be finite"),
        (Decimal("-Infinity"), "GBP", "must be finite"),
        ("NaN", "GBP", "not a plain decimal number"),
        ("Infinity", "GBP", "not a plain decimal number"),
        ("inf", "GBP", "not a plain decimal number"),
        (0, "GBP", "greater than zero"),
        (Decimal(0), "GBP", "greater than zero"),
        (Decimal("-0"), "GBP", "greater than zero"),
        ("0.00", "GBP", "greater than zero"),
        ("0e5", "GBP", "greater than zero"),
        (-5, "GBP", "greater than zero"),
        (Decimal("-0.01"), "GBP", "greater than zero"),
        ("-5", "GBP", "not a plain decimal number"),
        ("+5", "GBP", "not a plain decimal number"),
        ("100.001", "GBP", "more than 2 decimal places, the precision of GBP"),
        (Decimal("0.001"), "EUR", "more than 2 decimal places, the precision of EUR"),
        ("1.5", "JPY", "more than 0 decimal places, the precision of JPY"),
        ("1.2345", "BHD", "more than 3 decimal places, the precision of BHD"),
        ("1e-3", "USD", "more than 2 decimal places"),
        ("1e-2000", "GBP", "more than 2 decimal places"),
        (True, "GBP", "not a boolean"),
        (False, "GBP", "not a boolean"),
        (None, "GBP", "not null"),
        (100.0, "GBP", "not a float"),
        (0.1, "GBP", "not a float"),
        (float("nan"), "GBP", "not a float"),
        (float("inf"), "GBP", "not a float"),
        ([100], "GBP", "must be a number, not list"),
        ({"value": 100}, "GBP", "must be a number, not dict"),
        (b"100", "GBP", "must be a number, not bytes"),
        ("", "GBP", "not a plain decimal number"),
        ("1,000", "GBP", "not a plain decimal number"),
        ("1_000", "GBP", "not a plain decimal number"),
        ("£5", "GBP", "not a plain decimal number"),
        ("0x10", "GBP", "not a plain decimal number"),
        ("1.", "GBP", "not a plain decimal number"),
        (".5", "GBP", "not a plain decimal number"),
        ("١٢", "GBP", "not a plain decimal number"),  # Arabic-Indic digits: Decimal() would accept
        ("12\n3", "GBP", "not a plain decimal number"),
        (Decimal("1E+24"), "GBP", f"too large (at most {MAX_INTEGER_DIGITS} integer digits)"),
        ("1" + "0" * 30, "GBP", "too large"),
        ("1e999999999", "GBP", "out of range"),  # exponent bounded before Decimal() computes
    ],
)
def test_rejected_amounts_explain_why(value: object, currency: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        amount(value, currency)
    assert reason in str(caught.value)


def test_amount_in_unknown_currency_is_a_currency_error_not_an_amount_error() -> None:
    with pytest.raises(CurrencyError, match="unknown currency 'XYZ'"):
        amount("1.00", "XYZ")


# --- properties -------------------------------------------------------------------------------

codes = st.sampled_from(sorted(DIGITS))
minor_units = st.integers(min_value=1, max_value=10**20)


@settings(max_examples=200, deadline=None)
@given(code=codes, units=minor_units, extra_zeros=st.integers(0, 5), as_text=st.booleans())
def test_any_amount_in_precision_round_trips_exactly(
    code: str, units: int, extra_zeros: int, as_text: bool
) -> None:
    digits = DIGITS[code]
    exact = Decimal(units).scaleb(-digits)
    text = str(exact)
    if extra_zeros:
        text += ("" if "." in text else ".") + "0" * extra_zeros
    parsed = amount(text if as_text else Decimal(text), code)
    assert parsed == exact
    assert parsed.as_tuple().exponent == -digits
    assert str(parsed) == str(exact)


@settings(max_examples=200, deadline=None)
@given(code=codes, units=minor_units, extra_digit=st.integers(1, 9))
def test_one_nonzero_digit_past_the_precision_is_always_rejected(
    code: str, units: int, extra_digit: int
) -> None:
    digits = DIGITS[code]
    too_fine = Decimal(units).scaleb(-digits) + Decimal(extra_digit).scaleb(-digits - 1)
    with pytest.raises(AmountError, match=f"more than {digits} decimal place"):
        amount(str(too_fine), code)
    with pytest.raises(AmountError, match=f"more than {digits} decimal place"):
        amount(too_fine, code)


# --- exact arithmetic -------------------------------------------------------------------------


def test_money_sum_is_exact_where_float_is_not() -> None:
    assert 0.1 + 0.2 != 0.3  # the reason floats never touch an amount
    assert money_sum([Decimal("0.1"), Decimal("0.2")]) == Decimal("0.3")
    assert money_sum([Decimal("1E+23"), Decimal("0.01")]) == Decimal("100000000000000000000000.01")
    assert money_sum([Decimal("1E+17"), Decimal(1), -Decimal("1E+17")]) == Decimal(1)
    assert money_sum([]) == 0


def test_money_sum_raises_rather_than_rounds() -> None:
    # 1e50 + 1e-50 needs 101 significant digits, beyond the 80-digit money context.
    with pytest.raises(Inexact):
        money_sum([Decimal("1E+50"), Decimal("1E-50")])


def test_quantize_raises_rather_than_rounds() -> None:
    assert quantize(Decimal("1.50"), Decimal("0.1")) == Decimal("1.5")
    with pytest.raises(Inexact):
        quantize(Decimal("1.005"), Decimal("0.01"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(10**22), max_value=10**22), max_size=40), codes)
def test_money_sum_matches_integer_arithmetic_on_minor_units(units: list[int], code: str) -> None:
    digits = DIGITS[code]
    total = money_sum(Decimal(u).scaleb(-digits) for u in units)
    assert total == Decimal(sum(units)).scaleb(-digits)


def test_widest_configured_amounts_add_up_exactly() -> None:
    # 24 integer digits and 8 decimals is 32 significant digits: beyond the default 28-digit
    # Decimal context, so money needs (and has) its own wider one.
    custom = Currencies(extra={"XBT": 8})
    widest = amount("9" * MAX_INTEGER_DIGITS + ".12345678", "XBT", custom)
    assert str(widest) == "9" * MAX_INTEGER_DIGITS + ".12345678"
    total = money_sum([widest, widest, Decimal("0.00000001")])
    assert str(total) == "1" + "9" * (MAX_INTEGER_DIGITS - 1) + "8.24691357"
