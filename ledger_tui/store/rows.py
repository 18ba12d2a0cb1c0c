"""Row shapes both stores share, so their tables and indexes hold the same things."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..domain.model import Address

#: Columns of ``ledger_entries`` in the order both stores read and write them.
ENTRY_COLUMNS = (
    "legal_entity, namespace, name, currency, account_id, time_bucket, effective_at, "
    "transaction_id, leg, side, amount, description, recorded_at"
)


def parent_key(parent: tuple[str, ...]) -> str:
    """The account-tree partition key of a path: its JSON list (``"[]"`` for the root)."""
    return json.dumps(list(parent), separators=(",", ":"))


def tree_rows(addresses: Iterable[Address]) -> set[tuple[str, str]]:
    """(parent key, child) pairs for every level of every address, de-duplicated."""
    rows: set[tuple[str, str]] = set()
    for address in addresses:
        parts = address.as_tuple()
        for depth in range(len(parts)):
            rows.add((parent_key(parts[:depth]), parts[depth]))
    return rows
