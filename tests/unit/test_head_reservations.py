"""What a bounded account's head counts as pending: each set id's reservations once, at their
largest (at most one of them ever posts), a hold's only before its expiry, and none of the set
id a capture settles."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ledger_tui.store.cassandra.heads import HeadState, reserved_value
from ledger_tui.store.cassandra.limits import reservation

HOLD, OTHER = uuid.uuid4(), uuid.uuid4()
PLACED, CAPTURING, CAPTURING_TOO = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _state() -> HeadState:
    return HeadState(
        Decimal("30.00"),
        {
            reservation(PLACED, HOLD): reserved_value(Decimal("3.00"), Decimal(0), until_ms=1_000),
            reservation(CAPTURING, HOLD): reserved_value(Decimal("2.00"), Decimal(0)),
            reservation(PLACED, OTHER): reserved_value(Decimal("3.00"), Decimal(0), until_ms=1_000),
            reservation(CAPTURING_TOO, OTHER): reserved_value(Decimal("3.00"), Decimal(0)),
        },
    )


def test_a_set_ids_reservations_count_once_at_their_largest() -> None:
    head = _state().head(at_ms=500)
    assert (head.balance, head.pending_debits, head.pending_credits) == (
        Decimal("30.00"),
        Decimal("6.00"),
        Decimal(0),
    )


def test_a_capture_leaves_out_every_reservation_of_its_hold() -> None:
    assert _state().head(at_ms=500, excluding=str(HOLD)).pending_debits == Decimal("3.00")


def test_an_expired_hold_leaves_only_its_capture_in_flight() -> None:
    assert _state().head(at_ms=1_000).pending_debits == Decimal("5.00")
