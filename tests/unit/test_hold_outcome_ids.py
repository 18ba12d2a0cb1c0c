"""Where a hold's outcome is claimed: never a row an entry set or a hold can take first, and an
outcome older versions stored under the plain derived id is still read (a set there is not)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import parse_entry_set_json, parse_transaction_id
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.store.cassandra.hold_rows import _OUTCOME_SPACE, hold_claim, outcome_claim, outcome_id
from ledger_tui.store.cassandra.holds import CassandraHolds

from ..support.entry_sets import transfer

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _derived(hold_id: uuid.UUID) -> uuid.UUID:
    """The id every outcome was claimed under before (public: the namespace is in the source)."""
    return uuid.uuid5(_OUTCOME_SPACE, str(hold_id))


@given(st.uuids(), st.integers(min_value=1, max_value=64))
def test_no_set_or_hold_can_be_claimed_where_an_outcome_is(hold_id: uuid.UUID, shards: int) -> None:
    claimed_as = outcome_id(hold_id, shards)
    assert claimed_as == outcome_id(hold_id, shards)  # every writer and reader agrees
    client_may_use = claimed_as.variant == uuid.RFC_4122
    if client_may_use:  # then a set under it is claimed in another shard than the hold's
        assert shard_of(claimed_as, shards) != shard_of(hold_id, shards)
        assert claimed_as == _derived(hold_id), "unchanged where it was already safe"
    else:
        with pytest.raises(ValueError, match="reserved for future"):
            parse_transaction_id(str(claimed_as), submitted=True)


def _row(claim: RecordedTransaction, token: uuid.UUID) -> tuple[Any, ...]:
    return (
        claim.transaction_id,
        claim.payload_hash,
        claim.legs_json(),
        to_epoch_ms(claim.recorded_at),
        token,
    )


def _holds(rows: dict[uuid.UUID, tuple[Any, ...]], shards: int) -> CassandraHolds:
    async def count() -> int:
        return shards

    holds = CassandraHolds(None, None, 0, count, SimpleNamespace(), SimpleNamespace())  # type: ignore[arg-type]

    async def claims(shard: int, ids: list[uuid.UUID], serial: bool) -> dict[uuid.UUID, tuple[Any, ...]]:
        return {txid: rows[txid] for txid in ids if txid in rows and shard_of(txid, shards) == shard}

    holds._claims = claims  # type: ignore[method-assign]
    return holds


def _hold_sharing_a_shard_with_its_derived_id(shards: int) -> uuid.UUID:
    return next(h for h in iter(uuid.uuid4, None) if shard_of(h, shards) == shard_of(_derived(h), shards))


def _placed(hold_id: uuid.UUID) -> RecordedTransaction:
    entry_set = parse_entry_set_json(transfer("60.00", 1727347200000, transaction_id=hold_id))
    return hold_claim(RecordedTransaction.of(entry_set, AT), AT + timedelta(days=1))


def test_a_set_posted_under_the_derived_id_is_no_outcome_of_the_hold() -> None:
    """A client that picks its hold's id can post a set under the public derived id in the
    hold's shard; reading the hold took that set for its outcome and failed (ValueError)."""
    shards = 8
    hold_id = _hold_sharing_a_shard_with_its_derived_id(shards)
    squatter = RecordedTransaction.of(
        parse_entry_set_json(transfer("1.00", 1727347200000, transaction_id=_derived(hold_id))), AT
    )
    rows = {
        hold_id: _row(_placed(hold_id), uuid.uuid1()),
        squatter.transaction_id: _row(squatter, uuid.uuid1()),
    }
    found = asyncio.run(_holds(rows, shards).stored([hold_id]))
    assert found[hold_id].outcome is None
    assert outcome_id(hold_id, shards) != squatter.transaction_id  # a new outcome goes elsewhere


@pytest.mark.parametrize("shards", [1, 8])
def test_an_outcome_an_older_version_stored_under_the_derived_id_is_read(shards: int) -> None:
    hold_id = _hold_sharing_a_shard_with_its_derived_id(shards)
    old = outcome_claim(hold_id, HoldOutcome.VOIDED, AT, None, shards)
    old = RecordedTransaction(_derived(hold_id), old.legs, old.payload_hash, AT, old.legs_text)
    rows = {hold_id: _row(_placed(hold_id), uuid.uuid1()), old.transaction_id: _row(old, uuid.uuid1())}
    found = asyncio.run(_holds(rows, shards).stored([hold_id]))
    outcome = found[hold_id].outcome
    assert outcome is not None and outcome.outcome is HoldOutcome.VOIDED


def test_a_set_with_an_id_of_the_reserved_variant_is_refused_by_name() -> None:
    from ledger_tui.domain.errors import ValidationError

    reserved = "0b6f3f4e-6a52-4d35-ea55-3c1f1a0e7d21"
    with pytest.raises(ValidationError) as refused:
        parse_entry_set_json(transfer("1.00", 1727347200000, transaction_id=reserved))
    assert "transaction_id" in str(refused.value) and "reserved" in str(refused.value)
