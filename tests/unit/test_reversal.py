"""A reversal undoes its original exactly: same addresses and amounts on the other side, a stable id."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from ledger_tui.domain.model import Address, RecordedTransaction, Side
from ledger_tui.domain.reversal import reversal_id, reversal_legs
from ledger_tui.loader import sample_entry_set


def _net(legs: object) -> dict[Address, Decimal]:
    totals: dict[Address, Decimal] = defaultdict(Decimal)
    for leg in legs:  # type: ignore[attr-defined]
        totals[leg.address] += leg.amount if leg.side is Side.CREDIT else -leg.amount
    return totals


def test_original_and_reversal_net_to_zero_on_every_account() -> None:
    entry_set = sample_entry_set()
    original = RecordedTransaction(
        entry_set.transaction_id, entry_set.legs, entry_set.payload_hash, datetime(2025, 1, 1, tzinfo=UTC)
    )
    mirror = reversal_legs(original)
    for back, leg in zip(mirror, original.legs, strict=True):
        assert (back.address, back.amount) == (leg.address, leg.amount) and back.side is not leg.side
    assert all(leg.effective_at is None for leg in mirror)
    both = _net(list(original.legs) + mirror)
    assert set(both) == {leg.address for leg in original.legs}
    assert all(total == 0 for total in both.values())
    assert all(str(original.transaction_id) in leg.description for leg in mirror)


def test_the_reversal_id_is_stable_and_differs_from_the_original() -> None:
    original = uuid.uuid4()
    assert reversal_id(original) == reversal_id(original) != original
    assert reversal_id(original) != reversal_id(uuid.uuid4())
