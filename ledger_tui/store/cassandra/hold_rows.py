"""How holds and their outcomes sit among the claims: a hold is a claim under its own id, its
payload hash marked with its expiry; its one outcome a claim under an id derived from the hold's.

Why among the claims: one IF NOT EXISTS keeps set and hold ids apart, and an outcome is decided
in one consensus round behind the limits fence like any claim (docs/holds.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ...domain.claims import shard_of
from ...domain.holds import Hold, HoldOutcome, HoldRefused
from ...domain.model import RecordedTransaction
from ...domain.timeutil import from_epoch_ms, to_epoch_ms
from .cql import transaction_from_row

HOLD_MARK = "hold:"
OUTCOME_MARK = "outcome:"
_OUTCOME_SPACE = uuid.UUID("0b6f3f4e-6a52-4d35-9a55-3c1f1a0e7d21")


def outcome_id(hold_id: uuid.UUID, shards: int) -> uuid.UUID:
    """The id an outcome of ``hold_id`` is claimed under, in the hold's shard, chosen so that no
    entry set or hold can take its row first: the derived id when its own shard is another (a set
    is claimed in its own id's shard), else the derived id in the variant no client may submit."""
    derived = uuid.uuid5(_OUTCOME_SPACE, str(hold_id))
    if shards > 1 and shard_of(derived, shards) != shard_of(hold_id, shards):
        return derived
    reserved = bytearray(derived.bytes)
    reserved[8] |= 0xE0  # the variant bits 111: "reserved for future definition"
    return uuid.UUID(bytes=bytes(reserved))


def outcome_ids(hold_id: uuid.UUID, shards: int) -> list[uuid.UUID]:
    """Where an outcome of ``hold_id`` may be stored: its id, then the derived id older versions
    claimed in every case (read, never claimed again: a set may hold it)."""
    derived = uuid.uuid5(_OUTCOME_SPACE, str(hold_id))
    return list(dict.fromkeys([outcome_id(hold_id, shards), derived]))


def outcome_of(hold_id: uuid.UUID, rows: dict[uuid.UUID, Any], shards: int) -> StoredOutcome | None:
    """The outcome of ``hold_id`` among ``get_claims`` rows of its shard (a set under a derived id
    is no outcome)."""
    for txid in outcome_ids(hold_id, shards):
        row = rows.get(txid)
        if row is not None:
            claim = transaction_from_row(row)
            if _is_outcome_of(hold_id, claim):
                return outcome_from_claim(claim, row[4])
    return None


def first_outcome(hold_id: uuid.UUID, claim: RecordedTransaction) -> StoredOutcome:
    """The outcome claimed first under the hold's outcome id; refused when an entry set holds that
    row (an older version took any client id), so the hold can get no outcome: it lapses at its
    expiry, which every read judges."""
    if not _is_outcome_of(hold_id, claim):
        raise HoldRefused(
            f"hold {hold_id} can get no outcome: entry set {claim.transaction_id} holds its outcome's id "
            "(it lapses at its expiry)"
        )
    return outcome_from_claim(claim, None)


def _is_outcome_of(hold_id: uuid.UUID, claim: RecordedTransaction) -> bool:
    return is_outcome_claim(claim) and claim.payload_hash.startswith(f"{OUTCOME_MARK}{hold_id}:")


def is_hold_claim(transaction: RecordedTransaction) -> bool:
    """Whether a claim is a hold's (not a set's)."""
    return transaction.payload_hash.startswith(HOLD_MARK)


def is_outcome_claim(transaction: RecordedTransaction) -> bool:
    """Whether a claim is a hold's outcome."""
    return transaction.payload_hash.startswith(OUTCOME_MARK)


def is_set_claim(transaction: RecordedTransaction) -> bool:
    """Whether a claim is an entry set's (the only claims that have entry rows)."""
    return not (is_hold_claim(transaction) or is_outcome_claim(transaction))


def hold_claim(transaction: RecordedTransaction, expires_at: datetime) -> RecordedTransaction:
    """The claim of a hold: its legs, its hash marked with its expiry."""
    marked = f"{HOLD_MARK}{to_epoch_ms(expires_at)}:{transaction.payload_hash}"
    return replace(transaction, payload_hash=marked)


def held_hash(claim: RecordedTransaction) -> str:
    """The payload hash of the set a hold claim holds."""
    return claim.payload_hash[len(HOLD_MARK) :].split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """An outcome claim: which, when, the captured set (captures only), and the write that made it."""

    hold_id: uuid.UUID
    outcome: HoldOutcome
    at: datetime
    capture: RecordedTransaction | None
    claimed_by: uuid.UUID | None


def outcome_claim(
    hold_id: uuid.UUID,
    outcome: HoldOutcome,
    at: datetime,
    capture: RecordedTransaction | None,
    shards: int,
) -> RecordedTransaction:
    """The claim of an outcome: under the derived id, recorded at the outcome's time, with the
    captured set's legs (none for a void or an expiry)."""
    digest = "" if capture is None else capture.payload_hash
    marked = f"{OUTCOME_MARK}{hold_id}:{outcome.value}:{digest}"
    legs = () if capture is None else capture.legs
    text = "" if capture is None else capture.legs_text
    return RecordedTransaction(outcome_id(hold_id, shards), legs, marked, at, text)


def outcome_from_claim(claim: RecordedTransaction, claimed_by: uuid.UUID | None) -> StoredOutcome:
    """An outcome claim read back (its recorded time is the outcome's time)."""
    hold_text, outcome_text, digest = claim.payload_hash[len(OUTCOME_MARK) :].split(":", 2)
    hold_id, outcome = uuid.UUID(hold_text), HoldOutcome(outcome_text)
    capture = None
    if outcome is HoldOutcome.CAPTURED:
        capture = RecordedTransaction(hold_id, claim.legs, digest, claim.recorded_at)
    return StoredOutcome(hold_id, outcome, claim.recorded_at, capture, claimed_by)


@dataclass(frozen=True, slots=True)
class StoredHold:
    """A hold claim read back with its outcome claim (if any) and the write that placed it."""

    hold: Hold
    claimed_by: uuid.UUID | None
    outcome: StoredOutcome | None = None


def hold_from_claim(row: tuple[Any, ...], outcome: StoredOutcome | None = None) -> StoredHold:
    """A ``get_claims`` row of a hold claim, with its outcome."""
    claim = transaction_from_row(row)
    expires_ms, digest = claim.payload_hash[len(HOLD_MARK) :].split(":", 1)
    transaction = replace(claim, payload_hash=digest)
    expires_at = from_epoch_ms(int(expires_ms))
    hold = Hold(
        transaction,
        expires_at,
        None if outcome is None else outcome.outcome,
        None if outcome is None else outcome.at,
    )
    return StoredHold(hold, row[4], outcome)


def set_of_claim(row: tuple[Any, ...]) -> RecordedTransaction | None:
    """The entry set a claim row stands for: a set's own, a captured hold's set (from its
    outcome claim, under the hold's id), or None (a hold, a void, an expiry, or a shard that
    holds only its limits fence: a static row with no claim)."""
    if row[0] is None:
        return None
    claim = transaction_from_row(row)
    if is_set_claim(claim):
        return claim
    if is_outcome_claim(claim):
        return outcome_from_claim(claim, None).capture
    return None


def with_outcome(stored: StoredHold, outcome: StoredOutcome) -> StoredHold:
    """The hold with ``outcome``."""
    hold = stored.hold
    settled = Hold(hold.transaction, hold.expires_at, outcome.outcome, outcome.at)
    return StoredHold(settled, stored.claimed_by, outcome)
