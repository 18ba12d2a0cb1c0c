"""Claims: the commit records of entry sets, how they are grouped, and what a write made of them.

A claim (id, payload hash, legs, recorded time) is written first and conditionally; every other
row of the set is its materialisation (``materialise.py``). Claims live in a fixed number of
shards so that many are made in one conditional write of one partition (one consensus round for
hundreds of sets), which makes bulk import and grouped online posts fast yet exactly idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import LedgerError
from .model import RecordedTransaction
from .timeutil import EPOCH

#: Claim shards of a new ledger (fixed at creation: a claim is found by ``shard_of``; the store
#: URL's ``claim_shards`` chooses another count for a new ledger). A shard has one conditional
#: batch in flight per writer process and the rest queue behind it, so fewer shards put more
#: concurrent posts into each consensus round, while more keep more rounds in flight for a bulk
#: import: 8 is the balance on one node; a ring of many nodes may want more, so that claims reach
#: more replicas (figures: docs/cassandra-write-path.md).
DEFAULT_CLAIM_SHARDS = 8
#: Sets per conditional claim write (one partition, one consensus round): a round costs the node
#: far more than a claim in it.
CLAIM_GROUP = 500
#: Most bytes of legs (canonical JSON, ASCII) per claim write, whatever the count: the write is
#: one mutation, and a node refuses a mutation over half its commit log segment. One set's legs
#: always fit, so a group always takes one set or more.
CLAIM_GROUP_BYTES = 1024 * 1024
#: Claims read back per query (repair): by id, whole rows.
CLAIM_READ_GROUP = 100
#: The claim log is partitioned by windows of this length (repair reads windows since it last ran).
CLAIM_WINDOW = timedelta(minutes=10)
#: Slots per window: claim log writes of one window spread over this many partitions.
CLAIM_LOG_SLOTS = 8


def shard_of(transaction_id: uuid.UUID, shards: int) -> int:
    """The claim shard of a transaction id (uniform: ids are random or hashed)."""
    return transaction_id.int % shards


def window_of(moment: datetime) -> int:
    """The claim-log window an instant falls in."""
    return (moment - EPOCH) // CLAIM_WINDOW


def window_start(window: int) -> datetime:
    """First instant of a claim-log window."""
    return EPOCH + window * CLAIM_WINDOW


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What a store did with one submitted transaction.

    ``transaction`` is the stored one (for a duplicate or a conflict: the earlier original).
    ``conflicting`` means the id was already taken by a different payload and nothing was
    written for it; ``refused`` says why a set was not written although its id was free (a leg
    would break an account's limit).
    """

    transaction: RecordedTransaction
    duplicate: bool
    conflicting: bool = False
    refused: LedgerError | None = None

    @property
    def rejected(self) -> bool:
        """Whether nothing was written for this submission (a conflict or a refusal)."""
        return self.conflicting or self.refused is not None


def claimed_by(submitted: RecordedTransaction, stored: RecordedTransaction) -> RecordOutcome:
    """Judge a submission against the claim another write already stored under its id."""
    if stored.payload_hash != submitted.payload_hash:
        return RecordOutcome(stored, duplicate=False, conflicting=True)
    return RecordOutcome(stored, duplicate=True)


def first_of_each_id(
    transactions: Sequence[RecordedTransaction],
) -> tuple[list[RecordedTransaction], dict[int, int]]:
    """The first submission of every id, and for each later repeat the index of that first one.

    A batch may repeat an id (a file listing a set twice, two clients posting one set at once):
    only the first is claimed; the others are judged against it by ``claimed_by``.
    """
    first: dict[uuid.UUID, int] = {}
    unique: list[RecordedTransaction] = []
    repeats: dict[int, int] = {}
    for index, transaction in enumerate(transactions):
        seen = first.get(transaction.transaction_id)
        if seen is None:
            first[transaction.transaction_id] = index
            unique.append(transaction)
        else:
            repeats[index] = seen
    return unique, repeats


def in_submitted_order(
    transactions: Sequence[RecordedTransaction],
    repeats: dict[int, int],
    first: dict[uuid.UUID, RecordOutcome],
) -> list[RecordOutcome]:
    """One outcome per submission: a repeated id is a duplicate of (or conflicts with) what its
    first submission left stored."""
    result: list[RecordOutcome] = []
    for index, transaction in enumerate(transactions):
        outcome = first[transaction.transaction_id]
        if index in repeats:
            stored = outcome.transaction
            same = stored.payload_hash == transaction.payload_hash
            outcome = RecordOutcome(stored, duplicate=same, conflicting=not same)
        result.append(outcome)
    return result


@dataclass(slots=True)
class RepairReport:
    """What a repair did: claim-log batches looked at, sets completed from their claims."""

    windows: int = 0
    batches: int = 0
    unfinished: int = 0
    completed: int = 0
    repaired_through: datetime | None = None
