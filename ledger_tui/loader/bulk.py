"""Fill a ledger at volume: the bulk path shared by ``import`` and ``load-sample`` (a library).

Writes go through ``Engine.record_batch`` in chunks, a few in flight; ids are the sets' own
(deterministic per seed for generated data), so an interrupted load resumes without duplicates.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.claims import RecordOutcome
from ..domain.model import Address, EntrySet
from ..domain.parse import entry_set_from_data, loads_exact
from ..domain.timeutil import bucket_of
from ..engine import Engine
from ..samples import TRANSACTION, sample_text
from .generate import SampleGenerator
from .processes import few_collections

#: Records one chunk: entry sets through the import path, or recorded sets for a restore.
Write = Callable[[list[Any]], Awaitable[list[RecordOutcome]]]
# The origin's sample has no transaction id; this fixed one makes reloading it idempotent.
SAMPLE_TRANSACTION_ID = "5a1b2df7-f2f4-47a9-8c6b-f2f477a9c6bf"
#: Defaults of generated data: months of history, seed, sets for load-sample and for the demo.
DEFAULT_MONTHS = 24
DEFAULT_SEED = 7
DEFAULT_SETS = 5000
DEMO_SETS = 2000
#: Chunks in flight, and sets per chunk, of the bulk path.
DEFAULT_CONCURRENCY = 2
DEFAULT_CHUNK = 20000


@dataclass(slots=True)
class LoadStats:
    """What a load did, for the closing summary and the tests."""

    transactions: int = 0
    duplicates: int = 0
    conflicts: int = 0
    entries: int = 0
    seconds: float = 0.0
    accounts: set[Address] = field(default_factory=set)
    buckets: set[tuple[Address, str]] = field(default_factory=set)

    def count(self, outcomes: list[RecordOutcome], *, indexes: bool = True) -> None:
        """Add one chunk's outcomes (conflicting sets wrote nothing: counted apart); without
        ``indexes``, only the counts (not the accounts and buckets touched)."""
        for outcome in outcomes:
            if outcome.rejected:  # a limit's refusal is counted with the conflicts: nothing written
                self.conflicts += 1
                continue
            self.transactions += 1
            self.duplicates += outcome.duplicate
            legs, recorded_at = outcome.transaction.legs, outcome.transaction.recorded_at
            self.entries += len(legs)
            if indexes:
                self.accounts.update([leg.address for leg in legs])
                self.buckets.update((leg.address, bucket_of(leg.effective_at or recorded_at)) for leg in legs)

    def merge(self, other: LoadStats) -> None:
        """Add what another part of the same load did (a worker's chunk)."""
        self.transactions += other.transactions
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.entries += other.entries
        self.accounts |= other.accounts
        self.buckets |= other.buckets

    @property
    def throughput(self) -> float:
        """Entries written or confirmed per second."""
        return self.entries / self.seconds if self.seconds else 0.0


def sample_entry_set() -> EntrySet:
    """The origin's six-entry ``transaction.json`` with the fixed sample id."""
    data = loads_exact(sample_text(TRANSACTION))
    data["transaction_id"] = SAMPLE_TRANSACTION_ID
    return entry_set_from_data(data)


def generated_sets(count: int, months: int, until: datetime, seed: int) -> Iterable[EntrySet]:
    """The origin's sample followed by ``count`` generated sets (count includes funding)."""
    yield sample_entry_set()
    if count > 0:
        yield from SampleGenerator(seed, until, months).entry_sets(count)


async def load(
    engine: Engine,
    entry_sets: Iterable[Any],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    chunk: int = DEFAULT_CHUNK,
    on_progress: Callable[[LoadStats], None] | None = None,
    on_outcomes: Callable[[int, list[RecordOutcome]], None] | None = None,
    write: Write | None = None,
) -> LoadStats:
    """Record every set through the bulk path, ``concurrency`` chunks of ``chunk`` sets in flight.

    Safe to interrupt and rerun: ids are the sets' own, a started chunk finishes whole, and the
    run begins with ``repair`` so a chunk cut short by a crash is completed before anything else.
    ``on_outcomes(offset, outcomes)`` gets each chunk's outcomes (``offset``: index of its first
    set in ``entry_sets``); conflicting sets are counted in ``stats.conflicts``. ``write`` records
    a chunk (default: ``engine.record_batch`` of EntrySets; a restore writes recorded sets)."""
    with few_collections():
        return await _load(
            engine, entry_sets, concurrency, chunk, on_progress, on_outcomes, write or engine.record_batch
        )


async def _load(
    engine: Engine,
    entry_sets: Iterable[Any],
    concurrency: int,
    chunk: int,
    on_progress: Callable[[LoadStats], None] | None,
    on_outcomes: Callable[[int, list[RecordOutcome]], None] | None,
    write: Write,
) -> LoadStats:
    stats = LoadStats()
    started = time.perf_counter()
    await engine.repair()
    source = _chunks(entry_sets, max(1, chunk))

    async def writer() -> None:
        for offset, sets in source:  # a shared iterator: each chunk goes to exactly one writer
            outcomes = await write(sets)
            stats.count(outcomes)
            if on_outcomes is not None:
                on_outcomes(offset, outcomes)
            if on_progress is not None:
                stats.seconds = time.perf_counter() - started
                on_progress(stats)

    writers = [asyncio.ensure_future(writer()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*writers)
    except BaseException:
        # Interrupted (Ctrl-C cancels the main task, which cancels the writers): wait until each
        # writer's chunk in flight has landed whole before unwinding.
        await asyncio.wait(writers)
        raise
    finally:
        stats.seconds = time.perf_counter() - started
    return stats


def _chunks(entry_sets: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    """Consecutive chunks of ``size`` sets with the offset of their first set."""
    source = iter(entry_sets)
    offset = 0
    while chunk := list(itertools.islice(source, size)):
        yield offset, chunk
        offset += len(chunk)
