"""A hold whose outcome row a set holds (an older version accepted any UUID, so a set may sit
under the reserved-variant id ``outcome_id(H, shards)``): settling it is refused, never a crash,
and the sweeper survives it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest

from ledger_tui.domain.blocks import SealPolicy
from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.errors import LedgerError
from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.domain.limits import Limits
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import build_entry_set, parse_entry_set_json
from ledger_tui.store.cassandra.hold_rows import outcome_id
from ledger_tui.store.cassandra.holds import CassandraHolds

from ..support.entry_sets import transfer
from ..support.hold_claims import AT, holds_over, placed, table_of

SHARDS = 8


def _squatted() -> tuple[CassandraHolds, uuid.UUID]:
    """A hold whose outcome row a set took, behind fakes of the writer and limits."""
    hold_id = next(h for h in iter(uuid.uuid4, None) if outcome_id(h, SHARDS).variant == uuid.RESERVED_FUTURE)
    taken = outcome_id(hold_id, SHARDS)
    assert shard_of(taken, SHARDS) == shard_of(hold_id, SHARDS)  # a set under it sits in the hold's shard
    legs = list(parse_entry_set_json(transfer("1.00", 1727347200000)).legs)
    squatter = RecordedTransaction.of(build_entry_set(taken, legs), AT)  # as an older version took it
    table = table_of([placed(hold_id), squatter], SHARDS)

    async def log(*args: object, **kwargs: object) -> tuple[int, int, uuid.UUID]:
        return (0, 0, uuid.uuid1())

    async def claim_one(shard: int, seq: int, claim: RecordedTransaction, token: uuid.UUID) -> object:
        assert claim.transaction_id == taken
        return squatter  # IF NOT EXISTS: the row is taken, by this claim

    async def view() -> SimpleNamespace:
        return SimpleNamespace(seq=1, limits=Limits())

    writer = SimpleNamespace(log=log, claim_one=claim_one, finish_later=lambda *a, **k: None)
    return holds_over(table, SHARDS, writer, SimpleNamespace(view=view)), hold_id


def test_settling_a_hold_whose_outcome_row_holds_a_set_is_refused_not_a_crash() -> None:
    holds, hold_id = _squatted()
    read = asyncio.run(holds.stored([hold_id]))[hold_id]
    assert read.outcome is None  # the read copes: the set is no outcome
    with pytest.raises(LedgerError):  # a refusal the client is told, not ValueError
        asyncio.run(holds.settle(hold_id, HoldOutcome.VOIDED, AT + timedelta(hours=1), None, SealPolicy()))


def test_sweeping_such_a_hold_past_its_expiry_does_not_kill_the_sweeper() -> None:
    """``HoldBook.keep_swept`` (the loop ``serve`` runs) survives only a LedgerError."""
    holds, hold_id = _squatted()

    async def listed(open_only: bool) -> list[tuple[uuid.UUID, int]]:
        return [(hold_id, shard_of(hold_id, SHARDS))]

    holds.lists.listed = listed  # type: ignore[method-assign]
    with contextlib.suppress(LedgerError):  # reported by keep_swept, which goes on
        asyncio.run(holds.sweep(AT + timedelta(days=2), SealPolicy()))
