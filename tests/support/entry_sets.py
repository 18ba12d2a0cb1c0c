"""Small builders for entry-set JSON used across test modules."""

from __future__ import annotations

import json
import uuid
from typing import Any


def leg(
    side: str,
    amount: object,
    *,
    currency: str = "GBP",
    account: str = "acc-1",
    name: str = "current",
    namespace: str = "com.test.customer",
    entity: str = "test_uk",
    timestamp: int | None = 1727347200000,
    description: str = "",
) -> dict[str, Any]:
    """One leg in the origin's JSON shape."""
    data: dict[str, Any] = {
        "address": {
            "legal_entity": entity,
            "namespace": namespace,
            "name": name,
            "currency": currency,
            "account_id": account,
        },
        "amount": amount,
        "type": side,
        "description": description,
    }
    if timestamp is not None:
        data["timestamp"] = timestamp
    return data


def entry_set(*legs: dict[str, Any], transaction_id: uuid.UUID | str | None = None) -> str:
    """A JSON entry-set document (numbers stay JSON numbers)."""
    data: dict[str, Any] = {"entries": list(legs)}
    if transaction_id is not None:
        data["transaction_id"] = str(transaction_id)
    return json.dumps(data)


def transfer(
    amount: object,
    timestamp: int,
    *,
    debit: str = "acc-1",
    credit: str = "acc-2",
    currency: str = "GBP",
    transaction_id: uuid.UUID | str | None = None,
    description: str = "transfer",
) -> str:
    """A two-leg set moving ``amount`` from ``debit`` to ``credit`` at ``timestamp``."""
    return entry_set(
        leg("debit", amount, account=debit, currency=currency, timestamp=timestamp, description=description),
        leg(
            "credit", amount, account=credit, currency=currency, timestamp=timestamp, description=description
        ),
        transaction_id=transaction_id,
    )
