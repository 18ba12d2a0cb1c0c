"""Sample loader: deterministic per seed on either store, resumable, balanced, realistically shaped."""

from __future__ import annotations

import asyncio
import gc
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_tui.domain.claims import RecordOutcome
from ledger_tui.domain.model import Entry, EntrySet, RecordedTransaction
from ledger_tui.engine import Engine
from ledger_tui.loader import LoadStats, few_collections, generated_sets, load
from ledger_tui.store.sqlite import SqliteStore

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
N = 120


def sets(count: int = N, seed: int = 11) -> Iterable[EntrySet]:
    return generated_sets(count, months=6, until=UNTIL, seed=seed)


async def ledger_rows(engine: Engine) -> list[tuple[object, ...]]:
    """Every entry of the ledger minus its recorded time (which is when it was loaded)."""
    rows: list[Entry] = []
    for address in await engine.accounts():
        page = await engine.entries(address, page_size=100_000)
        rows.extend(page.items)
    return sorted(
        (str(e.address), e.entry_id, e.side.value, str(e.amount), e.effective_at, e.description) for e in rows
    )


async def test_same_seed_same_ledger_on_both_stores(engine: Engine, tmp_path: Path) -> None:
    stats = await load(engine, sets(), concurrency=16)
    assert (stats.transactions, stats.duplicates) == (N + 1, 0)
    async with SqliteStore(tmp_path / "twin.sqlite") as twin_store:
        await twin_store.apply_schema()
        twin = Engine(twin_store)
        await load(twin, sets(), concurrency=3)
        assert await ledger_rows(engine) == await ledger_rows(twin)
        for address in (await engine.accounts())[:10]:
            assert await engine.balance(address) == await twin.balance(address)
    assert await ledger_rows(engine) != []
    report = await engine.verify()
    assert report.ok, report.problems
    assert report.transactions == N + 1 and report.entries == stats.entries


async def test_interrupted_load_resumes_without_duplicates(engine: Engine) -> None:
    stopped_after: list[int] = []

    async def interrupted() -> None:
        task = asyncio.current_task()
        assert task is not None

        def stop_midway(stats: LoadStats) -> None:
            if stats.transactions >= 40 and not stopped_after:
                stopped_after.append(stats.transactions)
                task.cancel()  # what Ctrl-C does to asyncio.run's main task

        await load(engine, sets(), concurrency=3, chunk=10, on_progress=stop_midway)

    with pytest.raises(asyncio.CancelledError):
        await interrupted()
    partial = (await engine.verify()).transactions
    assert 40 <= partial < N + 1  # chunks in flight at the cancel either landed whole or not at all
    assert (await engine.verify()).ok

    resumed = await load(engine, sets(), concurrency=3, chunk=10)
    assert resumed.duplicates == partial
    report = await engine.verify()
    assert report.ok, report.problems
    assert report.transactions == N + 1 and report.entries == resumed.entries


def test_generated_mix_has_the_stated_shape() -> None:
    generated = list(sets(3000, seed=3))
    currencies = Counter(leg.address.currency for s in generated for leg in s.legs)
    assert set(currencies) >= {"GBP", "EUR", "USD"} and currencies["GBP"] > currencies["EUR"] > 0
    leg_counts = Counter(len(s.legs) for s in generated)
    assert any(3 <= n <= 6 for n in leg_counts) and max(leg_counts) <= 6
    partitions = Counter(
        (leg.address, (leg.effective_at or UNTIL).strftime("%Y-%m")) for s in generated for leg in s.legs
    )
    sizes = sorted(partitions.values())
    assert sizes[-1] >= 20 * statistics.median(sizes)  # a few hot partitions, most small
    months = Counter((leg.effective_at or UNTIL).strftime("%Y-%m") for s in generated[1:] for leg in s.legs)
    ordered = [months[m] for m in sorted(months)]
    assert sum(ordered[-2:]) > 4 * sum(ordered[:2])  # a growing fintech: recent months are busiest
    descriptions = {leg.description for s in generated for leg in s.legs}
    assert {"Salary", "Monthly account fee", "Interest"} <= descriptions


async def test_the_collector_runs_rarely_during_a_load_and_as_before_after(engine: Engine) -> None:
    """A load raises the collector's thresholds while it runs (it re-scanned the load's objects
    for a quarter of an import's time) and gives the caller's back, also when the load fails."""
    outer = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        seen: list[tuple[int, int, int]] = []
        await load(engine, sets(30), chunk=10, on_progress=lambda _stats: seen.append(gc.get_threshold()))
        assert seen and all(threshold[0] >= 100 * 700 for threshold in seen)
        assert gc.get_threshold() == (700, 10, 10)

        def failing() -> Iterable[EntrySet]:
            yield from sets(5)
            raise RuntimeError("source broke")

        with pytest.raises(RuntimeError, match="source broke"):
            await load(engine, failing(), chunk=2)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*outer)


async def test_overlapping_loads_give_back_the_callers_thresholds(engine: Engine) -> None:
    """Loads in one process that start and finish interleaved (concurrent imports) keep the
    collector slow until the last ends, then give the caller's thresholds back: a save/restore
    per load left them raised for good when the first to start was the first to end."""
    outer = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        first, second = few_collections(), few_collections()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert gc.get_threshold()[0] >= 100 * 700  # the second load still runs
        second.__exit__(None, None, None)
        assert gc.get_threshold() == (700, 10, 10)

        await asyncio.gather(load(engine, sets(4), chunk=2), load(engine, sets(2, seed=12), chunk=1))
        assert gc.get_threshold() == (700, 10, 10)

        gc.set_threshold(500_000, 10, 10)  # a caller's own higher threshold is not lowered
        seen: list[tuple[int, int, int]] = []
        await load(engine, sets(3), chunk=1, on_progress=lambda _stats: seen.append(gc.get_threshold()))
        assert seen and all(threshold[0] == 500_000 for threshold in seen)
        assert gc.get_threshold() == (500_000, 10, 10)
    finally:
        gc.set_threshold(*outer)


def test_load_stats_merged_from_parts_equal_the_stats_of_the_whole() -> None:
    recorded = [RecordedTransaction.of(s, UNTIL) for s in sets(40)]
    outcomes = [
        RecordOutcome(t, duplicate=i % 3 == 0, conflicting=i % 7 == 0) for i, t in enumerate(recorded)
    ]
    whole = LoadStats()
    whole.count(outcomes)
    merged = LoadStats()
    for part in (outcomes[:13], outcomes[13:30], outcomes[30:]):
        stats = LoadStats()
        stats.count(part)
        merged.merge(stats)
    assert merged == whole and whole.conflicts and whole.duplicates
    counts_only = LoadStats()
    counts_only.count(outcomes, indexes=False)
    assert (counts_only.transactions, counts_only.entries) == (whole.transactions, whole.entries)
    assert not counts_only.accounts and not counts_only.buckets
