"""Where a hold's outcome is claimed: never a row an entry set or a hold can take first; an
outcome older versions stored under the plain derived id is still read (a set there is not); and
holds read together keep their own rows, though two may share an id in two shards."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.holds import HoldOutcome
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import parse_entry_set_json, parse_transaction_id
from ledger_tui.store.cassandra.hold_rows import outcome_claim, outcome_id

from ..support.entry_sets import transfer
from ..support.hold_claims import AT, ClaimsTable, derived_id, holds_over, placed, table_of

SHARDS = 8


@given(st.uuids(), st.integers(min_value=1, max_value=64))
def test_no_set_or_hold_can_be_claimed_where_an_outcome_is(hold_id: uuid.UUID, shards: int) -> None:
    claimed_as = outcome_id(hold_id, shards)
    assert claimed_as == outcome_id(hold_id, shards)  # every writer and reader agrees
    client_may_use = claimed_as.variant == uuid.RFC_4122
    if client_may_use:  # then a set under it is claimed in another shard than the hold's
        assert shard_of(claimed_as, shards) != shard_of(hold_id, shards)
        assert claimed_as == derived_id(hold_id), "unchanged where it was already safe"
    else:
        with pytest.raises(ValueError, match="reserved for future"):
            parse_transaction_id(str(claimed_as), submitted=True)


def _hold_whose_derived_id_is_in_its_shard(shards: int, same: bool = True) -> uuid.UUID:
    return next(
        h for h in iter(uuid.uuid4, None) if (shard_of(h, shards) == shard_of(derived_id(h), shards)) == same
    )


def test_a_set_posted_under_the_derived_id_is_no_outcome_of_the_hold() -> None:
    """A client that picks its hold's id can post a set under the public derived id in the
    hold's shard: reading the hold must not take that set for its outcome."""
    hold_id = _hold_whose_derived_id_is_in_its_shard(SHARDS)
    squatter = RecordedTransaction.of(
        parse_entry_set_json(transfer("1.00", 1727347200000, transaction_id=derived_id(hold_id))), AT
    )
    found = asyncio.run(holds_over(table_of([placed(hold_id), squatter], SHARDS), SHARDS).stored([hold_id]))
    assert found[hold_id].outcome is None
    assert outcome_id(hold_id, SHARDS) != squatter.transaction_id  # a new outcome goes elsewhere


@pytest.mark.parametrize("shards", [1, 8])
def test_an_outcome_an_older_version_stored_under_the_derived_id_is_read(shards: int) -> None:
    hold_id = _hold_whose_derived_id_is_in_its_shard(shards)
    old = outcome_claim(hold_id, HoldOutcome.VOIDED, AT, None, shards)
    old = RecordedTransaction(derived_id(hold_id), old.legs, old.payload_hash, AT, old.legs_text)
    found = asyncio.run(holds_over(table_of([placed(hold_id), old], shards), shards).stored([hold_id]))
    outcome = found[hold_id].outcome
    assert outcome is not None and outcome.outcome is HoldOutcome.VOIDED


def test_a_set_with_an_id_of_the_reserved_variant_is_refused_by_name() -> None:
    reserved = "0b6f3f4e-6a52-4d35-ea55-3c1f1a0e7d21"
    with pytest.raises(ValidationError) as refused:
        parse_entry_set_json(transfer("1.00", 1727347200000, transaction_id=reserved))
    assert "transaction_id" in str(refused.value) and "reserved" in str(refused.value)


def _captured_hold_and_a_hold_under_its_outcome_id() -> tuple[uuid.UUID, uuid.UUID, ClaimsTable]:
    """Hold H captured (its outcome under the public id D, in H's shard) and a client's open hold
    under D (in D's shard): two rows under one id."""
    hold = _hold_whose_derived_id_is_in_its_shard(SHARDS, same=False)
    derived = derived_id(hold)
    assert outcome_id(hold, SHARDS) == derived  # the public id: a client may use it
    held = placed(hold)
    capture = RecordedTransaction(hold, held.legs, "0" * 64, AT, held.legs_text)
    outcome = outcome_claim(hold, HoldOutcome.CAPTURED, AT, capture, SHARDS)
    table = table_of([held, placed(derived)], SHARDS) | table_of(
        [outcome], SHARDS, shard=shard_of(hold, SHARDS)
    )
    return hold, derived, table


@pytest.mark.parametrize("order", ["hold first", "client's hold first"])
def test_holds_read_together_each_keep_their_own_rows(order: str) -> None:
    hold, derived, table = _captured_hold_and_a_hold_under_its_outcome_id()
    ids = [hold, derived] if order == "hold first" else [derived, hold]
    found = asyncio.run(holds_over(table, SHARDS).stored(ids))
    assert set(found) == {hold, derived}, "the client's hold under the derived id vanished"
    outcome = found[hold].outcome
    assert outcome is not None and outcome.outcome is HoldOutcome.CAPTURED, "the capture was lost"
    assert found[derived].outcome is None


def test_each_such_hold_read_alone_is_right() -> None:
    hold, derived, table = _captured_hold_and_a_hold_under_its_outcome_id()
    holds = holds_over(table, SHARDS)
    alone = asyncio.run(holds.stored([hold]))[hold].outcome
    assert alone is not None and alone.outcome is HoldOutcome.CAPTURED
    assert asyncio.run(holds.stored([derived]))[derived].outcome is None
