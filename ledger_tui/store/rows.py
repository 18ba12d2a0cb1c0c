"""Row shapes both stores share, so their tables hold the same things in the same order."""

from __future__ import annotations

#: Columns of ``ledger_entries`` in the order both stores read and write them.
ENTRY_COLUMNS = (
    "legal_entity, namespace, name, currency, account_id, time_bucket, effective_at, "
    "transaction_id, leg, side, amount, description, recorded_at"
)
