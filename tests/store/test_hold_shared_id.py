"""On the node: a client's hold under another hold's public derived outcome id and that outcome
share an id in two shards, and both are listed with their own rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra.hold_rows import _OUTCOME_SPACE

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])


async def test_a_hold_under_a_derived_outcome_id_and_that_outcome_are_both_listed(engine: Engine) -> None:
    shards = await engine._store._claim_shards()  # type: ignore[attr-defined]
    hold = next(
        h
        for h in iter(uuid.uuid4, None)
        if shard_of(uuid.uuid5(_OUTCOME_SPACE, str(h)), shards) != shard_of(h, shards)
    )
    derived = uuid.uuid5(_OUTCOME_SPACE, str(hold))
    for txid in (hold, derived):
        held = parse_entry_set_json(transfer("10.00", 1727347200000, transaction_id=txid), engine.currencies)
        await engine.holds().place(held, expires_in=timedelta(days=1))
    await engine.holds().capture(hold)
    assert (await engine.holds().get(hold)).outcome is HoldOutcome.CAPTURED  # read alone: right
    listed = {h.hold_id: h for h in await engine.holds().all_holds()}
    assert set(listed) == {hold, derived}, "the hold under the derived id is missing"
    assert listed[hold].outcome is HoldOutcome.CAPTURED, "the capture is missing"
    pending = {h.hold_id for h in await engine.holds().pending_holds()}
    assert pending == {derived}
