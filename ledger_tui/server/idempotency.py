"""``Idempotency-Key``: a client's retry token turned into a transaction id.

The key names the entry set: its id is a UUIDv5 of the key, so a retry (or 20 racing copies)
hits the store's one-claim-per-id rule and is recorded once; the same key with another body
is the store's conflicting resubmission (409). A ``transaction_id`` in the body wins.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from ..domain.model import EntrySet
from ..domain.money import Currencies
from ..domain.parse import entry_set_from_data
from .errors import ApiError

HEADER = "Idempotency-Key"
IDEMPOTENCY_NAMESPACE = uuid.UUID("3b8f0a52-6f0e-4c55-9d1e-5a7c2e9b4d11")
MAX_KEY_LENGTH = 255
_KEY_SHAPE = re.compile(r"[\x21-\x7e]+")


def checked_key(key: str | None) -> str | None:
    """The request's key (visible ASCII, at most 255 characters), or None."""
    if key is None:
        return None
    if not _KEY_SHAPE.fullmatch(key) or len(key) > MAX_KEY_LENGTH:
        raise ApiError(400, f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters", HEADER)
    return key


def key_transaction_id(key: str, line: int | None = None) -> uuid.UUID:
    """The transaction id a key stands for (a bulk line adds its line number)."""
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, key if line is None else f"{key}\n{line}")


def entry_set_with_key(data: Any, key: str | None, currencies: Currencies, line: int | None = None
                       ) -> tuple[EntrySet, str]:  # fmt: skip
    """The validated entry set (its id from the key when the body has none) and the field a
    conflict would be blamed on ('' when the id is a fresh random one: no conflict possible)."""
    has_id = isinstance(data, Mapping) and data.get("transaction_id") is not None
    if key is not None and isinstance(data, Mapping) and not has_id:
        data = {**data, "transaction_id": str(key_transaction_id(key, line))}
        return entry_set_from_data(data, currencies), HEADER
    return entry_set_from_data(data, currencies), "transaction_id" if has_id else ""
