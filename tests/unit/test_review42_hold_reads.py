"""review42: holds read together merge their claim rows by id alone, across shards.

An outcome of hold H is claimed in H's shard under the public derived id D = uuid5(space, H)
whenever D's own shard is another one. A client may place a hold under D itself (an ordinary
RFC 4122 id): it is claimed in D's shard. Both rows exist, under the same id, in two shards, and
``CassandraHolds.stored`` reads the shards and merges the rows into one dict keyed by id, so one
row hides the other: either H reads as open (its capture lost) or the hold under D vanishes from
every listing (``holds``, ``sweep``, pending amounts, the reservations a new head is made with).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.store.cassandra.hold_rows import _OUTCOME_SPACE, hold_claim, outcome_claim, outcome_id
from ledger_tui.store.cassandra.holds import CassandraHolds

from ..support.entry_sets import transfer

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
SHARDS = 8


def _row(claim: RecordedTransaction, token: uuid.UUID) -> tuple[Any, ...]:
    return (
        claim.transaction_id,
        claim.payload_hash,
        claim.legs_json(),
        to_epoch_ms(claim.recorded_at),
        token,
    )


def _placed(hold_id: uuid.UUID) -> RecordedTransaction:
    entry_set = parse_entry_set_json(transfer("60.00", 1727347200000, transaction_id=hold_id))
    return hold_claim(RecordedTransaction.of(entry_set, AT), AT + timedelta(days=1))


def _holds(table: dict[tuple[int, uuid.UUID], tuple[Any, ...]]) -> CassandraHolds:
    """CassandraHolds over a claims table keyed as Cassandra keys it: (shard, id)."""

    async def count() -> int:
        return SHARDS

    holds = CassandraHolds(None, None, 0, count, SimpleNamespace(), SimpleNamespace())  # type: ignore[arg-type]

    async def claims(shard: int, ids: list[uuid.UUID], serial: bool) -> dict[uuid.UUID, tuple[Any, ...]]:
        return {txid: table[(shard, txid)] for txid in ids if (shard, txid) in table}

    holds._claims = claims  # type: ignore[method-assign]
    return holds


def _table() -> tuple[uuid.UUID, uuid.UUID, dict[tuple[int, uuid.UUID], tuple[Any, ...]]]:
    """Hold H captured (outcome under D in H's shard) and a client's open hold under D."""
    hold = next(
        h
        for h in iter(uuid.uuid4, None)
        if shard_of(uuid.uuid5(_OUTCOME_SPACE, str(h)), SHARDS) != shard_of(h, SHARDS)
    )
    derived = uuid.uuid5(_OUTCOME_SPACE, str(hold))
    assert outcome_id(hold, SHARDS) == derived  # the public id: a client may use it
    placed = _placed(hold)
    capture = RecordedTransaction(hold, placed.legs, "0" * 64, AT, placed.legs_text)
    outcome = outcome_claim(hold, HoldOutcome.CAPTURED, AT, capture, SHARDS)
    table = {
        (shard_of(hold, SHARDS), hold): _row(placed, uuid.uuid1()),
        (shard_of(hold, SHARDS), derived): _row(outcome, uuid.uuid1()),
        (shard_of(derived, SHARDS), derived): _row(_placed(derived), uuid.uuid1()),  # the client's hold
    }
    return hold, derived, table


@pytest.mark.parametrize("order", ["hold first", "client's hold first"])
def test_holds_read_together_each_keep_their_own_rows(order: str) -> None:
    hold, derived, table = _table()
    ids = [hold, derived] if order == "hold first" else [derived, hold]
    found = asyncio.run(_holds(table).stored(ids))
    assert set(found) == {hold, derived}, "the client's hold under the derived id vanished"
    outcome = found[hold].outcome
    assert outcome is not None and outcome.outcome is HoldOutcome.CAPTURED, "the capture was lost"
    assert found[derived].outcome is None


def test_each_hold_read_alone_is_right() -> None:
    """The rows are right: only reading the two holds together goes wrong."""
    hold, derived, table = _table()
    holds = _holds(table)
    alone = asyncio.run(holds.stored([hold]))[hold].outcome
    assert alone is not None and alone.outcome is HoldOutcome.CAPTURED
    assert asyncio.run(holds.stored([derived]))[derived].outcome is None
