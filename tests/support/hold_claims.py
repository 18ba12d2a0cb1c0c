"""Claim rows of holds and their outcomes, and CassandraHolds over an in-memory claims table.

Reading holds is mostly row logic (which row is a hold, which its outcome, which a set under an
id that looks like one); a table keyed as Cassandra keys it, (shard, id), lets that logic be
tested without a node.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.store.cassandra.hold_rows import _OUTCOME_SPACE, hold_claim
from ledger_tui.store.cassandra.holds import CassandraHolds

from .entry_sets import transfer

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
ClaimsTable = dict[tuple[int, uuid.UUID], tuple[Any, ...]]


def derived_id(hold_id: uuid.UUID) -> uuid.UUID:
    """The id every outcome was claimed under before (public: the namespace is in the source)."""
    return uuid.uuid5(_OUTCOME_SPACE, str(hold_id))


def claim_row(claim: RecordedTransaction) -> tuple[Any, ...]:
    """The columns ``get_claims`` reads for one claim."""
    return (
        claim.transaction_id,
        claim.payload_hash,
        claim.legs_json(),
        to_epoch_ms(claim.recorded_at),
        uuid.uuid1(),
    )


def placed(hold_id: uuid.UUID, amount: str = "60.00") -> RecordedTransaction:
    """The claim of a hold placed at AT for a day."""
    entry_set = parse_entry_set_json(transfer(amount, 1727347200000, transaction_id=hold_id))
    return hold_claim(RecordedTransaction.of(entry_set, AT), AT + timedelta(days=1))


def table_of(claims: list[RecordedTransaction], shards: int, shard: int | None = None) -> ClaimsTable:
    """Each claim in its own id's shard, or all in ``shard`` (where an outcome is claimed)."""
    return {
        (shard_of(claim.transaction_id, shards) if shard is None else shard, claim.transaction_id): claim_row(
            claim
        )
        for claim in claims
    }


def holds_over(table: ClaimsTable, shards: int, writer: Any = None, limits: Any = None) -> CassandraHolds:
    """CassandraHolds whose claim reads are answered from ``table``."""

    async def count() -> int:
        return shards

    holds = CassandraHolds(None, None, 0, count, writer or SimpleNamespace(), limits or SimpleNamespace())  # type: ignore[arg-type]

    async def claims(shard: int, ids: list[uuid.UUID], serial: bool) -> dict[uuid.UUID, tuple[Any, ...]]:
        return {txid: table[(shard, txid)] for txid in ids if (shard, txid) in table}

    holds._claims = claims  # type: ignore[method-assign]
    return holds
