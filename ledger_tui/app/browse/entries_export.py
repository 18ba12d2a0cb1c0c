"""The entries on screen as an export table: exact amounts, no grouping, full ids and times.

The screen groups thousands and shortens ids to fit; a file is read by programs, so every
cell here is the figure itself (amounts in the currency's digits, ISO times, whole UUIDs).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ...domain.export import ExportTable
from ...domain.model import Entry
from ...domain.money import Currencies
from ..widgets.formatting import money_plain

COLUMNS = (
    "effective_at", "side", "amount", "currency", "balance", "description",
    "transaction_id", "leg_index", "recorded_at", "account",
)  # fmt: skip


def entries_table(
    entries: Sequence[Entry], balances: Sequence[Decimal], currencies: Currencies
) -> ExportTable:
    """One row per entry with the running balance shown beside it on screen."""
    rows = [
        (
            entry.effective_at.isoformat(timespec="milliseconds"),
            entry.side.value,
            money_plain(entry.amount, entry.address.currency, currencies),
            entry.address.currency,
            money_plain(balance, entry.address.currency, currencies),
            entry.description,
            entry.transaction_id,
            entry.leg_index,
            entry.recorded_at.isoformat(timespec="milliseconds"),
            entry.address,
        )
        for entry, balance in zip(entries, balances, strict=True)
    ]
    return ExportTable.of(COLUMNS, rows)
