"""A reversal: the mirror image of a recorded transaction, the only correction an immutable ledger allows.

Its id derives from the original's, so reversing twice is a duplicate, and the engine (which
posts it) and the console (which shows it before asking) build the same legs from one place.
"""

from __future__ import annotations

import uuid

from .model import Leg, RecordedTransaction, Side

#: Namespace of reversal ids: uuid5(REVERSAL_NAMESPACE, str(original id)).
REVERSAL_NAMESPACE = uuid.UUID("6f1d2b8e-3c1a-4f7e-9a55-0c2f6d7b9e10")


def reversal_id(transaction_id: uuid.UUID) -> uuid.UUID:
    """The id a reversal of ``transaction_id`` gets (the same every time)."""
    return uuid.uuid5(REVERSAL_NAMESPACE, str(transaction_id))


def reversal_legs(original: RecordedTransaction, description: str | None = None) -> list[Leg]:
    """Every leg of ``original`` on the other side, effective now, described as its reversal."""
    return [
        Leg(
            address=leg.address,
            side=Side.CREDIT if leg.side is Side.DEBIT else Side.DEBIT,
            amount=leg.amount,
            description=description or f"Reversal of {original.transaction_id}: {leg.description}"[:1024],
            effective_at=None,
        )
        for leg in original.legs
    ]
