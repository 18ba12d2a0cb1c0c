"""On the node: voiding a hold whose reserved outcome row holds a set (one an older version
accepted) is refused, not a crash."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ledger_tui.domain.errors import LedgerError
from ledger_tui.domain.parse import build_entry_set, parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra.hold_rows import outcome_id

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])


async def test_voiding_a_hold_whose_outcome_row_an_old_set_holds_is_refused_not_a_crash(
    engine: Engine,
) -> None:
    shards = await engine._store._claim_shards()  # type: ignore[attr-defined]
    hold_id = next(h for h in iter(uuid.uuid4, None) if outcome_id(h, shards).variant == uuid.RESERVED_FUTURE)
    legs = list(parse_entry_set_json(transfer("1.00", 1727347200000)).legs)
    await engine.record_batch([build_entry_set(outcome_id(hold_id, shards), legs)])  # as an older version
    held = parse_entry_set_json(transfer("10.00", 1727347200000, transaction_id=hold_id), engine.currencies)
    await engine.holds().place(held, expires_in=timedelta(days=1))
    assert (await engine.holds().get(hold_id)).outcome is None
    with pytest.raises(LedgerError):
        await engine.holds().void(hold_id)
