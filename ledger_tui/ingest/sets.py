"""What one batch of messages becomes: each message parsed (a refusal or the set's claim), the
sets to write, and one outcome per message (new, duplicate, conflicting, refused, held back).

Why apart from where parsing and writing run (this process, or worker processes): the ingester's
rules (a repeated id is judged against its first submission in batch order; without a dead-letter
topic nothing after a refused message is written) must mean the same whichever runs them.
"""

from __future__ import annotations

import asyncio
import bisect
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from ..domain.claims import RecordOutcome
from ..domain.errors import LedgerError
from ..domain.model import EntrySet
from ..domain.money import Currencies
from ..engine import Engine
from .source import entry_set_from_value

#: What writing one set did (``Written``'s first part).
NEW, DUPLICATE, CONFLICTING, REFUSED = 0, 1, 2, 3
#: A message's place and value: topic, partition, offset, value (what a worker is handed).
Item = tuple[str, int, int, bytes | None]
#: Messages parsed between two looks at the event loop (a write in flight goes on meanwhile).
PARSE_STRIDE = 250
#: Rounds of a batch that write repeats of sets a limit refused (each a write); repeats past them
#: are judged refused with the last reason, so a batch of copies of one refused set stays cheap.
RETRY_ROUNDS = 8


class Claim(NamedTuple):
    """What the coordinator needs of a parsed set: its id (16 bytes: cheap to send), and its
    payload's hash (judging repeats)."""

    id: bytes
    payload_hash: str


#: A parsed message: the reason it is refused, or its set's claim.
Parsed = str | Claim
#: What writing one set did: NEW, DUPLICATE, CONFLICTING or REFUSED, and for a conflict the hash of
#: the payload stored under its id, for a refusal (a limit) its reason (else "").
Written = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: ``new``, ``duplicate``, ``conflicting``, ``refused`` (with its
    reason) or ``held`` (after a refused message, without a dead-letter topic: not written)."""

    kind: str
    transaction_id: uuid.UUID | None = None
    reason: str = ""


def item_of(message: Any) -> Item:
    """A Kafka message as a worker is handed it."""
    return (message.topic, message.partition, message.offset, message.value)


async def parse_items(
    items: Sequence[Item], currencies: Currencies
) -> tuple[list[EntrySet | None], list[Parsed]]:
    """Each message's set (None when refused) and what the coordinator is told of it."""
    sets: list[EntrySet | None] = []
    parsed: list[Parsed] = []
    for number, (topic, partition, offset, value) in enumerate(items, start=1):
        try:
            entry_set = entry_set_from_value(value, topic, partition, offset, currencies)
        except LedgerError as error:
            sets.append(None)
            parsed.append(str(error))
        else:
            sets.append(entry_set)
            parsed.append(Claim(entry_set.transaction_id.bytes, entry_set.payload_hash))
        if number % PARSE_STRIDE == 0:
            await asyncio.sleep(0)
    return sets, parsed


def written_of(outcomes: Sequence[RecordOutcome]) -> list[Written]:
    """The store's outcomes in the form that crosses a pipe."""
    return [
        (CONFLICTING, o.transaction.payload_hash)
        if o.conflicting
        else (REFUSED, str(o.refused))
        if o.refused is not None
        else (DUPLICATE if o.duplicate else NEW, "")
        for o in outcomes
    ]


@dataclass(slots=True)
class Parsing:
    """A batch's messages parsed: ``parsed[i]`` for message i; ``held``: what the parser keeps to
    write them (the sets themselves, or where the worker processes hold them)."""

    parsed: list[Parsed]
    held: Any = None


class SetWriter(Protocol):
    """Where a batch's messages are parsed and its sets written: this process or worker processes."""

    async def ready(self) -> None:
        """Return once writing may start (connected, repaired); raise what prevents it."""

    def check(self) -> None:
        """Raise what stopped it from writing, if anything did (a worker that died)."""

    async def parse(self, items: Sequence[Item]) -> Parsing:
        """Parse a batch's messages."""

    async def write(self, parsing: Parsing, indexes: list[int]) -> list[Written]:
        """Write the sets of ``parsing`` at ``indexes`` (each id once), in one outcome each."""


class LocalWriter:
    """Parsing and writing in this process, on this process's engine (``--workers 1``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def ready(self) -> None:
        """Nothing to wait for: the engine is connected and repaired."""

    def check(self) -> None:
        """Nothing can stop it apart from this process."""

    async def parse(self, items: Sequence[Item]) -> Parsing:
        """Parse in the event loop's thread."""
        sets, parsed = await parse_items(items, self.engine.currencies)
        return Parsing(parsed, sets)

    async def write(self, parsing: Parsing, indexes: list[int]) -> list[Written]:
        """One bulk write (``complete_duplicates``: a claim may have outlived rows that never landed)."""
        if not indexes:
            return []
        sets = [parsing.held[i] for i in indexes]
        return written_of(await self.engine.record_batch(sets, complete_duplicates=True))


@dataclass(slots=True)
class BatchWork:
    """One batch from parsed messages to one outcome each."""

    items: list[Item]
    parsing: Parsing | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    async def parse(self, writer: SetWriter) -> None:
        """Parse every message (where the writer parses)."""
        self.parsing = await writer.parse(self.items)

    async def write(self, writer: SetWriter, *, hold_after_refused: bool) -> None:
        """Write the first submission of every id (``hold_after_refused``: nothing of a partition
        after its first refused message), then judge every message. A repeat of a set a limit
        refused is a new submission: it is written in a later round, as in a later batch (with a
        dead-letter topic: without one, nothing after the refusal is to be written)."""
        assert self.parsing is not None
        parsed = self.parsing.parsed
        held = _held(self.items, parsed) if hold_after_refused else set()
        submissions: dict[bytes, list[int]] = {}
        for index, claim in enumerate(parsed):
            if isinstance(claim, Claim) and index not in held:
                submissions.setdefault(claim.id, []).append(index)
        to_write = sorted(indexes[0] for indexes in submissions.values())
        written = dict(zip(to_write, await writer.write(self.parsing, to_write), strict=True))
        rounds = 0
        while not hold_after_refused and rounds < RETRY_ROUNDS:
            to_write = sorted(_retried(to_write, parsed, submissions, written))
            if not to_write:
                break
            rounds += 1
            again = await writer.parse([self.items[i] for i in to_write])  # the writer forgot them
            written.update(zip(to_write, await writer.write(again, list(range(len(to_write)))), strict=True))
        deciders = {
            claim_id: [i for i in indexes if i in written] for claim_id, indexes in submissions.items()
        }
        self.outcomes = [_outcome(index, parsed, held, deciders, written) for index in range(len(parsed))]


def _retried(
    just_written: list[int],
    parsed: Sequence[Parsed],
    submissions: dict[bytes, list[int]],
    written: dict[int, Written],
) -> list[int]:
    """The next submission of each id whose submission just written a limit refused."""
    retried = []
    for index in just_written:
        claim = parsed[index]
        assert isinstance(claim, Claim)
        indexes = submissions[claim.id]
        after = bisect.bisect_right(indexes, index)
        if written[index][0] == REFUSED and after < len(indexes):
            retried.append(indexes[after])
    return retried


def _outcome(
    index: int,
    parsed: Sequence[Parsed],
    held: set[int],
    deciders: dict[bytes, list[int]],
    written: dict[int, Written],
) -> Outcome:
    """One message's outcome: its own write's, or, for a repeat, judged against what the
    submission written last before it (``deciders``: those written, per id, in order) left."""
    claim = parsed[index]
    if isinstance(claim, str):
        return Outcome("refused", reason=claim)
    if index in held:
        return Outcome("held", uuid.UUID(bytes=claim.id))
    found = deciders[claim.id]
    decider = found[bisect.bisect_right(found, index) - 1]
    kind, stored = written[decider]
    if decider != index and kind != REFUSED:  # a repeat: judged against what its submission left
        submitted = parsed[decider]
        assert isinstance(submitted, Claim)
        stored = stored or submitted.payload_hash
        kind = DUPLICATE if stored == claim.payload_hash else CONFLICTING
    return _judged(kind, uuid.UUID(bytes=claim.id), stored)


def _held(items: Sequence[Item], parsed: Sequence[Parsed]) -> set[int]:
    """Messages after the first refused message of their partition."""
    first: dict[tuple[str, int], int] = {}
    for (topic, partition, offset, _), claim in zip(items, parsed, strict=True):
        if isinstance(claim, str):
            first[(topic, partition)] = min(first.get((topic, partition), offset), offset)
    return {
        index
        for index, (topic, partition, offset, _) in enumerate(items)
        if offset > first.get((topic, partition), offset)
    }


def _judged(kind: int, transaction_id: uuid.UUID, stored: str) -> Outcome:
    if kind == REFUSED:
        return Outcome("refused", transaction_id, stored)
    if kind == CONFLICTING:
        reason = f"conflict: transaction {transaction_id} was already recorded with a different payload"
        return Outcome("conflicting", transaction_id, reason)
    return Outcome("new" if kind == NEW else "duplicate", transaction_id)
