"""Display helpers for money and instants, shared by every screen so figures look the same.

Amounts are grouped in thousands here and only here, at display: the Decimal stays exact and
exports, the CLI and the API keep plain digits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from ...domain.money import Currencies, CurrencyError, quantize


def money_text(amount: Decimal, currency: str, currencies: Currencies) -> str:
    """``amount`` with the currency's exact digits (never rounded), thousands grouped:
    ``-1,234,567.50``; raw text if the code is odd."""
    try:
        return grouped(quantize(amount, currencies.quantum(currency)))
    except (CurrencyError, ArithmeticError):
        return str(amount)


def money_plain(amount: Decimal, currency: str, currencies: Currencies) -> str:
    """``amount`` with the currency's exact digits and no grouping (exports, copied figures)."""
    try:
        return currencies.format(amount, currency)
    except (CurrencyError, ArithmeticError):
        return str(amount)


def grouped(amount: Decimal) -> str:
    """Every digit of ``amount`` (no rounding, no exponent), thousands separated by commas."""
    return format(amount, ",f")


def short_id(transaction_id: UUID) -> str:
    """First 8 and last 4 hex digits (``5a1b2df7…9e10``): tells rows apart in a narrow column;
    the detail shows the whole id and ``y``/``c`` copy it."""
    text = str(transaction_id)
    return f"{text[:8]}…{text[-4:]}"


def instant_text(moment: datetime | None) -> str:
    """A compact UTC timestamp, or a dash for 'open-ended'."""
    if moment is None:
        return "—"
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
    return utc.strftime("%Y-%m-%d %H:%M:%S")


def date_text(moment: datetime | None) -> str:
    """The UTC date of ``moment`` (range bounds are shown and typed as dates)."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d")


def plural(count: int, one: str, many: str) -> str:
    """``1 entry``, ``2 entries``: a count with the word that fits it."""
    return f"{count:,} {one if count == 1 else many}"
