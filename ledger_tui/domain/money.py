"""Money as exact Decimal with each currency's ISO 4217 precision.

Floats never touch an amount: JSON numbers are parsed as Decimal and every sum runs in a
context that traps inexact results, so a ledger can never round silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

from .text import shown

# ISO 4217 minor-unit digits for active currencies (non-2 values listed explicitly below).
_TWO_DIGIT = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP "
    "GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB "
    "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC "
    "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL"
)
ISO_4217_DIGITS: dict[str, int] = {code: 2 for code in _TWO_DIGIT.split()}
ISO_4217_DIGITS.update(
    {
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
        "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
        "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        "CLF": 4, "UYW": 4,
    }
)  # fmt: skip

#: Largest number of integer digits an amount may have; keeps every sum far inside MONEY_CONTEXT.
MAX_INTEGER_DIGITS = 24

#: Arithmetic context for money: wide enough for any realistic sum, and loud if it is not.
MONEY_CONTEXT = Context(
    prec=80, traps=[Inexact, InvalidOperation, Overflow, DivisionByZero], Emax=999, Emin=-999
)

_CURRENCY_CODE = re.compile(r"^[A-Z]{3}\Z")
#: Longest number text parsed into a Decimal at all; longer ones are refused before computing.
MAX_NUMBER_TEXT = 64
#: Plain decimal text, ASCII digits only; the exponent is bounded to 4 digits before Decimal().
_DECIMAL_TEXT = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
_BOUNDED = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,4})?\Z")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class NumberOutOfRange:
    """A JSON number too long (or with too large an exponent) to compute with; kept as text so
    the field it sits in is rejected with a reason instead of the whole parse failing."""

    text: str


def bounded_json_number(text: str) -> Decimal | NumberOutOfRange:
    """A JSON number's text as Decimal, or NumberOutOfRange when digits or exponent are unbounded."""
    if len(text) > MAX_NUMBER_TEXT or not _BOUNDED.match(text):
        return NumberOutOfRange(text)
    return Decimal(text)


def _out_of_range(text: str) -> AmountError:
    return AmountError(
        f"{shown(text)} is out of range (at most {MAX_NUMBER_TEXT} characters and a 4-digit exponent)"
    )


class CurrencyError(ValueError):
    """A currency code that is malformed or not known to the registry."""


class AmountError(ValueError):
    """An amount that is not a positive, finite number in the currency's precision."""


class Currencies:
    """Which currencies the ledger accepts and how many minor-unit digits each has."""

    def __init__(self, extra: Mapping[str, int] | None = None) -> None:
        self._digits = dict(ISO_4217_DIGITS)
        for code, digits in (extra or {}).items():
            valid_digits = isinstance(digits, int) and not isinstance(digits, bool) and 0 <= digits <= 8
            if not _CURRENCY_CODE.match(code) or not valid_digits:
                raise CurrencyError(f"bad currency configuration {code!r}: {digits!r}")
            self._digits[code] = digits

    def digits(self, code: str) -> int:
        """Minor-unit digits for ``code``; raises CurrencyError for malformed or unknown codes."""
        if type(code) is str and code in self._digits:  # only well-formed codes are ever stored
            return self._digits[code]
        if not isinstance(code, str) or not _CURRENCY_CODE.match(code):
            raise CurrencyError("must be a three-letter upper-case ISO 4217 code")
        try:
            return self._digits[code]
        except KeyError:
            raise CurrencyError(f"unknown currency {code!r}") from None

    def codes(self) -> list[str]:
        """Every currency code accepted, sorted."""
        return sorted(self._digits)

    def quantum(self, code: str) -> Decimal:
        """The smallest unit of ``code`` as a Decimal, e.g. 0.01 for GBP."""
        return Decimal(1).scaleb(-self.digits(code))

    def format(self, amount: Decimal, code: str) -> str:
        """Render ``amount`` with exactly the currency's digits, never rounding."""
        return str(quantize(amount, self.quantum(code)))


DEFAULT_CURRENCIES = Currencies()


#: The smallest unit for each count of minor-unit digits a currency may have (0-8).
_QUANTA = [Decimal(1).scaleb(-digits) for digits in range(9)]


def quantize(amount: Decimal, quantum: Decimal) -> Decimal:
    """Rescale ``amount`` to ``quantum`` exactly, raising if that would lose a digit."""
    return MONEY_CONTEXT.quantize(amount, quantum)  # the context's own method: no context switch


def parse_number(value: object) -> Decimal:
    """A JSON value as a positive, finite Decimal of sane size, before any currency is known."""
    if isinstance(value, bool) or value is None:
        raise AmountError("must be a number, not " + ("a boolean" if value is not None else "null"))
    if isinstance(value, float):
        raise AmountError("must be parsed as an exact decimal, not a float")
    if isinstance(value, NumberOutOfRange):
        raise _out_of_range(value.text)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.match(text):
            raise AmountError(f"{shown(value)} is not a plain decimal number")
        if len(text) > MAX_NUMBER_TEXT or not _BOUNDED.match(text):
            raise _out_of_range(text)
        amount = Decimal(text)
    else:
        raise AmountError(f"must be a number, not {type(value).__name__}")
    if not amount.is_finite():
        raise AmountError("must be finite")
    if amount <= 0:
        raise AmountError("must be greater than zero")
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise AmountError(f"is too large (at most {MAX_INTEGER_DIGITS} integer digits)")
    return amount


def parse_amount(value: object, currency: str, currencies: Currencies) -> Decimal:
    """Turn a JSON value into a positive Decimal in the currency's precision, or explain why not."""
    amount = parse_number(value)
    digits = currencies.digits(currency)
    try:
        return quantize(amount, _QUANTA[digits] if digits < len(_QUANTA) else Decimal(1).scaleb(-digits))
    except (Inexact, InvalidOperation):
        raise AmountError(
            f"has more than {digits} decimal place{'s' if digits != 1 else ''}, the precision of {currency}"
        ) from None


def money_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Add amounts exactly; raises rather than rounds if the sum ever needed rounding."""
    with localcontext(MONEY_CONTEXT):
        total = ZERO
        for amount in amounts:
            total += amount
        return total


#: Digits grouped in threes by commas, e.g. ``1,000`` or ``12,345,678`` (the first group 1-3 digits).
_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?\Z")


def ungroup_amount(text: str) -> str:
    """An amount as an operator types it, with ``,`` thousands separators removed.

    Separators are accepted only between correct groups of three integer digits (``1,000.50``,
    ``12,345``), because a misplaced one (``1,00.5``, ``1000,5``) is more likely a typo or a
    decimal comma than a thousands mark, and guessing would move the wrong amount. Text without
    a comma is returned unchanged (its own checks come later).
    """
    stripped = text.strip()
    if "," not in stripped:
        return text
    if _GROUPED.match(stripped):
        return stripped.replace(",", "")
    fraction = stripped.partition(".")[2]
    if "," in fraction:
        reason = "has a ',' after the decimal point"
    elif re.fullmatch(r"[0-9]+,[0-9]{1,2}", stripped):
        reason = "uses ',' as a decimal mark; write a '.' (e.g. 1000.50)"
    else:
        reason = "has a ',' out of place: thousands separators go between groups of three digits (1,000.50)"
    raise AmountError(f"{shown(text)} {reason}")
