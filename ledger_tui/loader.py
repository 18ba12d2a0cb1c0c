"""Fill a ledger with the origin's sample plus generated entry sets (a library: no CLI here).

Writes go through the engine with a fixed pool of concurrent posters (never one await at a
time); ids are deterministic per seed, so an interrupted load resumes without duplicates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .domain.generate import SampleGenerator
from .domain.model import Address, EntrySet, PostStatus
from .domain.parse import entry_set_from_data, loads_exact
from .domain.timeutil import bucket_of
from .engine import Engine
from .samples import TRANSACTION, sample_text

# The origin's sample has no transaction id; this fixed one makes reloading it idempotent.
SAMPLE_TRANSACTION_ID = "5a1b2df7-f2f4-47a9-8c6b-f2f477a9c6bf"
#: Defaults of generated data: months of history, seed, sets for load-sample and for the demo.
DEFAULT_MONTHS = 24
DEFAULT_SEED = 7
DEFAULT_SETS = 5000
DEMO_SETS = 2000
DEFAULT_CONCURRENCY = 32


@dataclass(slots=True)
class LoadStats:
    """What a load did, for the closing summary and the tests."""

    transactions: int = 0
    duplicates: int = 0
    entries: int = 0
    seconds: float = 0.0
    accounts: set[Address] = field(default_factory=set)
    buckets: set[tuple[Address, str]] = field(default_factory=set)

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
    entry_sets: Iterable[EntrySet],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[LoadStats], None] | None = None,
) -> LoadStats:
    """Post every set with ``concurrency`` posters; safe to interrupt and rerun."""
    stats = LoadStats()
    source = iter(entry_sets)
    started = time.perf_counter()

    async def poster() -> None:
        for entry_set in source:  # a shared iterator: each set goes to exactly one poster
            receipt = await engine.post(entry_set)
            stats.transactions += 1
            stats.duplicates += receipt.status is PostStatus.DUPLICATE
            stats.entries += len(receipt.entries)
            for entry in receipt.entries:
                stats.accounts.add(entry.address)
                stats.buckets.add((entry.address, bucket_of(entry.effective_at)))
            if on_progress is not None:
                on_progress(stats)

    posters = [asyncio.ensure_future(poster()) for _ in range(concurrency)]
    try:
        await asyncio.gather(*posters)
    except BaseException:
        # Interrupted (Ctrl-C cancels the main task, which cancels the posters): wait until each
        # poster's in-flight post has landed whole before unwinding; asyncio.run would otherwise
        # cancel those writes too while shutting the loop down.
        await asyncio.wait(posters)
        raise
    finally:
        stats.seconds = time.perf_counter() - started
    return stats
