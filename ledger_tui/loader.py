"""``load-sample`` and ``demo``: fill a ledger with the origin's sample plus generated sets.

Writes go through the engine with a fixed pool of concurrent posters (never one await at a
time); ids are deterministic per seed, so an interrupted load resumes without duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from .domain.generate import SampleGenerator
from .domain.model import EntrySet, PostStatus
from .domain.parse import parse_entry_set_json
from .domain.timeutil import parse_instant
from .engine import Engine
from .paths import SAMPLE_TRANSACTION

# The origin's sample has no transaction id; this fixed one makes reloading it idempotent.
SAMPLE_TRANSACTION_ID = "5a1b2df7-f2f4-47a9-8c6b-f2f477a9c6bf"


@dataclass(slots=True)
class LoadStats:
    """What a load did, for the closing summary and the tests."""

    transactions: int = 0
    duplicates: int = 0
    entries: int = 0
    seconds: float = 0.0
    accounts: set[Any] = field(default_factory=set)
    buckets: set[Any] = field(default_factory=set)

    @property
    def throughput(self) -> float:
        """Throughput of the load (entries written or confirmed per second)."""
        return self.entries / self.seconds if self.seconds else 0.0


def sample_entry_set() -> EntrySet:
    """The origin's six-entry ``transaction.json`` with the fixed sample id."""
    import json

    data = json.loads(SAMPLE_TRANSACTION.read_text())
    data["transaction_id"] = SAMPLE_TRANSACTION_ID
    return parse_entry_set_json(json.dumps(data))


def generated_sets(count: int, months: int, until: datetime, seed: int) -> Iterable[EntrySet]:
    """The origin's sample followed by ``count`` generated sets (count includes funding)."""
    yield sample_entry_set()
    if count > 0:
        yield from SampleGenerator(seed, until, months).entry_sets(count)


async def load(
    engine: Engine,
    entry_sets: Iterable[EntrySet],
    *,
    concurrency: int = 32,
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
                stats.buckets.add((entry.address, entry.effective_at.strftime("%Y-%m")))
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


def add_loader_commands(commands: Any) -> None:
    """Register ``load-sample`` and ``demo`` on the CLI's sub-parsers."""
    for name, help_text, default_n in (
        ("load-sample", "load the origin's sample plus generated entry sets", 5000),
        ("demo", "open the console on a fresh demo ledger with sample data", 2000),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--transactions", type=int, default=default_n, help="generated sets")
        sub.add_argument("--months", type=int, default=24, help="months of history")
        sub.add_argument("--until", help="end of history (default: today, UTC)")
        sub.add_argument("--seed", type=int, default=7, help="same seed, same ledger")
        sub.add_argument("--concurrency", type=int, default=32, help="posts in flight")
        if name == "demo":
            sub.add_argument("--no-console", action="store_true", help="print a summary instead")


def _until(text: str | None) -> datetime:
    if text:
        return parse_instant(text)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


async def run_load(args: argparse.Namespace, engine: Engine, out: TextIO) -> LoadStats:
    """Load with a rich progress bar and print the totals line."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .cli import UsageError

    if args.transactions < 0 or args.months < 1 or args.concurrency < 1:
        raise UsageError("--transactions >= 0, --months >= 1 and --concurrency >= 1 are required")
    try:
        until = _until(args.until)
    except ValueError as error:
        raise UsageError(f"--until: {error}") from None
    total = args.transactions + 1
    sets = generated_sets(args.transactions, args.months, until, args.seed)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} entries/s"),
        TimeElapsedColumn(),
        transient=not out.isatty(),
        disable=not out.isatty(),
    ) as progress:
        task = progress.add_task("loading", total=total, rate="0")

        def update(stats: LoadStats) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=stats.transactions, rate=f"{stats.entries / elapsed:,.0f}")

        started = time.perf_counter()
        stats = await load(engine, sets, concurrency=args.concurrency, on_progress=update)
    out.write(
        f"loaded: transactions {stats.transactions} (new {stats.transactions - stats.duplicates}, "
        f"already there {stats.duplicates})  entries {stats.entries}  accounts "
        f"{len(stats.accounts)}  buckets {len(stats.buckets)}  seconds {stats.seconds:.1f}  "
        f"entries/s {stats.throughput:,.0f}\n"
    )
    return stats


async def run_loader_command(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``load-sample`` or ``demo``."""
    from .cli import EXIT_OK, _with_engine

    if args.command == "demo" and not args.store:
        demo_dir = Path(tempfile.mkdtemp(prefix="ledger-tui-demo-"))
        args.store = f"sqlite:{demo_dir / 'demo.sqlite'}"
        out.write(f"demo ledger: {args.store}\n")

    async def work(engine: Engine) -> int:
        await run_load(args, engine, out)
        if args.command == "demo" and args.no_console:
            await print_summary(engine, out)
        return EXIT_OK

    code = await _with_engine(args, work)
    if args.command == "demo" and not args.no_console:
        args.start_screen = "browse"
        sample = sample_entry_set().legs[0]  # the origin's main account, in its month
        assert sample.effective_at is not None
        args.initial_account = (sample.address, sample.effective_at.strftime("%Y-%m"))
        args.open_console = True  # the CLI opens it once this event loop has closed
    return code


async def print_summary(engine: Engine, out: TextIO) -> None:
    """Accounts and their closing balances (the console-free view of the demo)."""
    for address in await engine.accounts():
        rows = await engine.balance(address)
        figures = "  ".join(f"{row.currency} {row.closing}" for row in rows)
        out.write(f"{address!s:70} {figures}\n")
