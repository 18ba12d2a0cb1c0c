"""Random movements of one account in three currencies, for the property tests of folds and pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from ledger_tui.domain.model import Address, Entry, Side

T0 = datetime(2024, 1, 1, tzinfo=UTC)
#: Each currency's digits: amounts are drawn as integer minor units.
DIGITS = {"GBP": 2, "JPY": 0, "BHD": 3}

movements = st.lists(
    st.tuples(
        st.sampled_from(["GBP", "JPY", "BHD"]),
        st.sampled_from(list(Side)),
        st.integers(1, 10**9),
        st.integers(0, 400 * 24),  # hours after T0
    ),
    max_size=40,
)


def entry(currency: str, side: Side, units: int, hours: int, index: int = 0) -> Entry:
    """One entry of the account in ``currency``, ``hours`` after T0."""
    when = T0 + timedelta(hours=hours)
    address = Address("le", "ns", "name", currency, "a")
    amount = Decimal(units).scaleb(-DIGITS[currency])
    return Entry(address, side, amount, "", when, uuid.UUID(int=index + 1), 0, when)
