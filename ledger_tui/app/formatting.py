"""Display helpers for money and instants, shared by every screen so figures look the same."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ..domain.money import Currencies, CurrencyError


def money_text(amount: Decimal, currency: str, currencies: Currencies) -> str:
    """``amount`` with the currency's exact digits (never rounded); raw text if the code is odd."""
    try:
        return currencies.format(amount, currency)
    except (CurrencyError, ArithmeticError):
        return str(amount)


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
