"""Load benchmark: ledger-tui's guarded write path vs the plainest correct row-at-a-time baseline.

Both write the same generated entries into the local Cassandra node in one run:
- ours: Engine.post per entry set (LWT idempotency claim + one LOGGED batch holding the entry
  rows and the account/bucket index rows), 64 posts in flight;
- baseline: the driver's ``execute_concurrent`` of the prepared entry INSERT, one row per
  request, no batch, no claim, no index (so: no idempotency, no atomicity, no browsing).
Prints both rates and the ratio. Usage: python bench/load.py [--transactions N] [--host H:P].
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
import uuid
from datetime import UTC, datetime

from cassandra.concurrent import execute_concurrent_with_args

from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.timeutil import bucket_of, to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.loader import generated_sets, load
from ledger_tui.store.cassandra import CassandraStore
from ledger_tui.store.url import parse_store_url


async def run(transactions: int, host: str, concurrency: int) -> None:
    """Load the same data both ways and print figures side by side."""
    suffix = uuid.uuid4().hex[:8]
    until = datetime(2026, 11, 1, tzinfo=UTC)
    sets = list(generated_sets(transactions, 24, until, seed=7))
    entries = sum(len(s.legs) for s in sets)

    ours_store = CassandraStore(parse_store_url(f"cassandra://{host}/bench_ours_{suffix}"))
    await ours_store.connect()
    await ours_store.apply_schema()
    engine = Engine(ours_store)
    started = time.perf_counter()
    stats = await load(engine, sets, concurrency=concurrency)
    ours_seconds = time.perf_counter() - started
    assert stats.entries == entries and stats.duplicates == 0

    started = time.perf_counter()
    rerun = await load(engine, sets, concurrency=concurrency)  # every set a duplicate now
    rerun_seconds = time.perf_counter() - started
    assert rerun.duplicates == len(sets)
    report = await engine.verify()
    assert report.ok, report.problems
    await ours_store.close()

    base_store = CassandraStore(parse_store_url(f"cassandra://{host}/bench_base_{suffix}"))
    await base_store.connect()
    await base_store.apply_schema()
    insert = await base_store._statement("insert_entry")
    now = datetime.now(UTC)
    rows = []
    for entry_set in sets:
        recorded = RecordedTransaction(entry_set.transaction_id, entry_set.legs, entry_set.payload_hash, now)
        for e in recorded.entries():
            rows.append(
                (*e.address.as_tuple(), bucket_of(e.effective_at), to_epoch_ms(e.effective_at),
                 e.transaction_id, e.leg_index, e.side.value, e.amount, e.description,
                 to_epoch_ms(e.recorded_at))
            )  # fmt: skip
    session = base_store._session
    started = time.perf_counter()
    results = await asyncio.to_thread(
        execute_concurrent_with_args, session, insert, rows, concurrency=256, raise_on_first_error=True
    )
    base_seconds = time.perf_counter() - started
    assert all(ok for ok, _ in results)
    await base_store.close()

    ours_rate = entries / ours_seconds
    base_rate = entries / base_seconds
    print(f"machine: {platform.node()} {platform.machine()} cores={os.cpu_count()}")
    print(f"data: {len(sets)} entry sets, {entries} entries (seed 7, 24 months)")
    print(f"{'path':<44}{'seconds':>9}{'sets/s':>10}{'entries/s':>11}")
    for label, seconds in (
        (f"ours: claim + logged batch (+index), c={concurrency}", ours_seconds),
        ("ours: rerun, all duplicates (resume)", rerun_seconds),
        ("baseline: execute_concurrent rows, c=256", base_seconds),
    ):
        print(f"{label:<44}{seconds:>9.2f}{len(sets) / seconds:>10.0f}{entries / seconds:>11.0f}")
    print(f"ratio ours/baseline (entries/s): {ours_rate / base_rate:.2f}")


def main() -> None:
    """Parse flags and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(run(args.transactions, args.host, args.concurrency))


if __name__ == "__main__":
    main()
