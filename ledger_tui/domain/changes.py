"""Change events: what the ledger tells other systems it committed: entry sets and holds.

An event is built from the stored set alone, so every publisher, poller and console derives the
same event, with the same id, from the ledger itself: a consumer drops repeats by ``event_id``.
Cursors are the store's own (opaque here); see docs/events.md.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .model import RecordedTransaction
from .reversal import reversal_id
from .timeutil import to_epoch_ms

#: Namespace of event ids: uuid5(EVENT_NAMESPACE, "<type>/<transaction id>").
EVENT_NAMESPACE = uuid.UUID("0b6c9a7e-51f4-4d3a-8c1e-2f7a9d4e6b31")
#: Most events one read of the feed returns (a page; the next read goes on from its cursor).
MAX_CHANGES_PAGE = 5000
_REVERSAL_OF = re.compile(r"^Reversal of ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}): ")


class ChangeType(StrEnum):
    """What was committed."""

    RECORDED = "entry_set.recorded"
    REVERSAL = "reversal.recorded"
    HOLD_PLACED = "hold.placed"
    HOLD_VOIDED = "hold.voided"
    HOLD_EXPIRED = "hold.expired"


#: The hold events (a capture is told as the entry set it records under the hold's id).
HOLD_EVENTS = (ChangeType.HOLD_PLACED, ChangeType.HOLD_VOIDED, ChangeType.HOLD_EXPIRED)


@dataclass(frozen=True, slots=True)
class HoldChange:
    """What a hold event adds to the held set: its type, expiry and (voided, expired) when."""

    kind: ChangeType
    expires_at: datetime
    outcome_at: datetime | None = None


def reversed_original(transaction: RecordedTransaction) -> uuid.UUID | None:
    """The set ``transaction`` reverses, when it is the ledger's reversal of one (its id is
    derived from the original's, so a description alone cannot make a set look like one)."""
    if not transaction.legs:
        return None
    found = _REVERSAL_OF.match(transaction.legs[0].description)
    if found is None:
        return None
    original = uuid.UUID(found.group(1))
    return original if reversal_id(original) == transaction.transaction_id else None


def event_id(kind: ChangeType, transaction_id: uuid.UUID) -> uuid.UUID:
    """The stable id of the event that tells of ``transaction_id``: the same from every reader."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{kind.value}/{transaction_id}")


@dataclass(frozen=True, slots=True)
class Change:
    """One committed entry set as an event; ``cursor`` is where a reader resumes after it
    (resuming there never skips this event or a later one; it may repeat some near it)."""

    transaction: RecordedTransaction
    cursor: str
    hold: HoldChange | None = None
    reverses: uuid.UUID | None = field(init=False)

    def __post_init__(self) -> None:
        original = None if self.hold is not None else reversed_original(self.transaction)
        object.__setattr__(self, "reverses", original)

    @property
    def kind(self) -> ChangeType:
        """The event's type."""
        if self.hold is not None:
            return self.hold.kind
        return ChangeType.RECORDED if self.reverses is None else ChangeType.REVERSAL

    @property
    def event_id(self) -> uuid.UUID:
        """The event's stable id."""
        return event_id(self.kind, self.transaction.transaction_id)

    def to_json(self) -> dict[str, object]:
        """The event: the set in the origin's JSON (amounts as strings) plus id, type and cursor."""
        transaction = self.transaction
        data: dict[str, object] = {
            "event_id": str(self.event_id),
            "type": self.kind.value,
            "cursor": self.cursor,
            "transaction_id": str(transaction.transaction_id),
            "recorded_at": transaction.recorded_at.isoformat(timespec="milliseconds"),
            "recorded_at_ms": to_epoch_ms(transaction.recorded_at),
            "entries": [entry.to_json() for entry in transaction.entries()],
        }
        if self.reverses is not None:
            data["reverses"] = str(self.reverses)
        if self.hold is not None:
            data["expires_at"] = self.hold.expires_at.isoformat(timespec="milliseconds")
            if self.hold.outcome_at is not None:
                data["outcome_at"] = self.hold.outcome_at.isoformat(timespec="milliseconds")
        return data


@dataclass(frozen=True, slots=True)
class FeedLag:
    """How far a reader is behind the ledger: events (exact where the store counts them) or time,
    and the writes it is waiting for (claimed, not yet known complete: ``repair`` finishes them)."""

    events: int | None = None
    seconds: float | None = None
    waiting: int = 0
    oldest_waiting: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """Events in commit order and the cursor after them (all of them when ``more`` is false)."""

    changes: list[Change]
    cursor: str
    more: bool
    lag: FeedLag = FeedLag()
    #: Tokens of what was given beyond ``cursor`` (fresh reads): pass them to the next read.
    fresh: frozenset[str] = frozenset()
