"""SQLite durability cost: posting through the engine with synchronous=FULL (ours) vs NORMAL.

FULL fsyncs the WAL on every commit, so a committed entry set survives a power cut; NORMAL
only survives a crash of the process. Both runs post the same generated entry sets, one post
per commit (as the CLI and the console do) and with 64 posts in flight (as the loader does),
into fresh files in one temp directory. Prints sets/s for both and the ratio FULL / NORMAL.
Usage: python bench/sqlite_sync.py [--transactions N] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ledger_tui.domain.model import EntrySet
from ledger_tui.engine import Engine
from ledger_tui.loader import generated_sets, load
from ledger_tui.store.sqlite import SqliteStore


async def _rate(path: Path, synchronous: str, sets: list[EntrySet], concurrency: int) -> float:
    """Entry sets per second posted into a fresh ledger at ``path``."""
    engine = Engine(SqliteStore(path, synchronous=synchronous))
    await engine.connect()
    try:
        started = time.perf_counter()
        if concurrency == 1:
            for entry_set in sets:
                await engine.post(entry_set)
        else:
            await load(engine, iter(sets), concurrency=concurrency)
        return len(sets) / (time.perf_counter() - started)
    finally:
        await engine.close()


async def run(transactions: int, directory: Path) -> None:
    """Post the same sets with each setting, one after the other, and print the figures."""
    sets = list(generated_sets(transactions, 12, datetime(2026, 11, 1, tzinfo=UTC), seed=7))
    print(f"{platform.node()} cpus={os.cpu_count()} {len(sets)} sets, dir {directory}")
    print(f"{'posting':<22}{'NORMAL sets/s':>15}{'FULL sets/s':>14}{'FULL/NORMAL':>13}")
    for label, concurrency in (("one at a time", 1), ("64 in flight (loader)", 64)):
        rates = {}
        for synchronous in ("NORMAL", "FULL"):
            path = directory / f"{synchronous.lower()}-{concurrency}.sqlite"
            rates[synchronous] = await _rate(path, synchronous, sets, concurrency)
        ratio = rates["FULL"] / rates["NORMAL"]
        print(f"{label:<22}{rates['NORMAL']:>15,.0f}{rates['FULL']:>14,.0f}{ratio:>13.2f}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--dir", type=Path, help="where the ledgers go (default: a new temp dir)")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="ledger-bench-sync-"))
    asyncio.run(run(args.transactions, directory))


if __name__ == "__main__":
    main()
