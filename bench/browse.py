"""Browse benchmark: page latency deep inside a hot partition vs a small one, on both stores.

Fills one account-month partition with ``--entries`` rows (and a small partition with 300),
then walks each partition forward with the console's page size (100) and prints the median
milliseconds per page for the first ten pages, the last ten pages, and the small partition.
Page tokens resume where the last page ended, so a deep page costs what a first page costs.
With ``--split N`` (Cassandra) the same fill is also made with the hot account split into N
partitions a month (``layout split``), and its pages are printed beside the plain ones, as ratios.
Usage: python bench/browse.py [--entries N] [--host H:P] [--stores sqlite,cassandra] [--split N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ledger_tui.domain.model import Address, EntrySet, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.loader import load

HOT = Address("bench_uk", "com.bench.settlement", "card_scheme", "GBP", "*")
SMALL = Address("bench_uk", "com.bench.customer", "current", "GBP", "quiet")
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
PAGE = 100


def sets_into(hot: Address, count: int, seconds_apart: float) -> list[EntrySet]:
    """``count`` two-leg sets, each debiting ``hot`` once, all inside October 2026."""
    result = []
    for index in range(count):
        when = MONTH_START + timedelta(seconds=index * seconds_apart)
        other = Address("bench_uk", "com.bench.customer", "current", "GBP", f"c{index % 500:03d}")
        amount = Decimal(index % 9000 + 100).scaleb(-2)
        legs = [Leg(hot, Side.DEBIT, amount, "card", when), Leg(other, Side.CREDIT, amount, "card", when)]
        result.append(build_entry_set(uuid.UUID(int=index + (hot == SMALL) * 10**9, version=4), legs))
    return result


async def walk(engine: Engine, address: Address) -> list[float]:
    """Milliseconds of every page read while paging through the whole partition."""
    latencies, token = [], None
    while True:
        started = time.perf_counter()
        page = await engine.entries(address, TimeRange(), page_size=PAGE, token=token)
        latencies.append((time.perf_counter() - started) * 1000)
        if page.next_token is None:
            return latencies
        token = page.next_token


async def bench(kind: str, url: str, entries: int, split: int = 0) -> tuple[float, float]:
    """Fill, then page through the hot and the small partition of one store (the hot account
    split into ``split`` partitions a month first, if given); the first and last pages' medians."""
    engine = build_engine(LedgerOptions(store=url))
    await engine.connect()
    await engine.apply_schema()
    if split:
        await engine.layouts().split(HOT, split, at_once=True)
    started = time.perf_counter()
    await load(engine, sets_into(HOT, entries, 2_592_000 / entries), concurrency=64)
    await load(engine, sets_into(SMALL, 300, 3600), concurrency=64)
    fill = time.perf_counter() - started
    hot = await walk(engine, HOT)
    small = await walk(engine, SMALL)
    await engine.close()
    first, last = statistics.median(hot[:10]), statistics.median(hot[-10:])
    print(
        f"{kind + (f'/{split}' if split else ''):<10}{entries:>9}{len(hot):>7}{first:>12.2f}{last:>12.2f}"
        f"{statistics.median(small):>12.2f}{last / first:>9.2f}{fill:>9.1f}"
    )
    return first, last


def main() -> None:
    """Parse flags and run each store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument("--stores", default="sqlite,cassandra")
    parser.add_argument("--split", type=int, default=16, help="also a hot account split N ways (0: not)")
    args = parser.parse_args()
    print(f"page size {PAGE}; median ms per page")
    columns = [("store", 10), ("entries", 9), ("pages", 7), ("first 10", 12), ("last 10", 12)]
    columns += [("small", 12), ("last/1st", 9), ("fill s", 9)]
    print("".join(name.ljust(width) if name == "store" else name.rjust(width) for name, width in columns))
    for kind in args.stores.split(","):
        if kind == "sqlite":
            url = f"sqlite:{Path(tempfile.mkdtemp(prefix='ledger-bench-')) / 'browse.sqlite'}"
            asyncio.run(bench(kind, url, args.entries))
            continue
        plain = asyncio.run(
            bench(kind, f"cassandra://{args.host}/bench_browse_{uuid.uuid4().hex[:8]}", args.entries)
        )
        if args.split:
            url = f"cassandra://{args.host}/bench_browse_{uuid.uuid4().hex[:8]}"
            split = asyncio.run(bench(kind, url, args.entries, args.split))
            print(
                f"split {args.split} / plain, same entries: first pages {split[0] / plain[0]:.2f}x, "
                f"last pages {split[1] / plain[1]:.2f}x (target: as fast as today, ~1x)"
            )


if __name__ == "__main__":
    main()
