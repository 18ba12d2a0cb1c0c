"""``load-sample`` and ``demo``: the loader library with a progress bar, a totals line and a console."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from ..domain.blocks import day_start
from ..domain.timeutil import bucket_of, parse_instant
from ..engine import Engine, SealReport
from ..ledger import LedgerOptions, open_ledger
from ..loader import LoadStats, generated_sets, load, sample_entry_set
from ..settings import read_state
from .common import EXIT_OK, UsageError, config_settings, ledger_options, with_engine

#: Longest history the loader generates (a century), so month arithmetic stays in years 1..9999.
MAX_MONTHS = 1200


def _until(text: str | None) -> datetime:
    if text:
        try:
            return parse_instant(text)
        except ValueError as error:
            raise UsageError(f"--until: {error}") from None
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


async def _load_with_progress(args: argparse.Namespace, engine: Engine, out: TextIO) -> LoadStats:
    """Load with a rich progress bar (on a terminal) and print the totals line."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not (args.transactions >= 0 and 1 <= args.months <= MAX_MONTHS and 1 <= args.concurrency <= 1000):
        raise UsageError(
            f"--transactions >= 0, --months from 1 to {MAX_MONTHS} and --concurrency from 1 to 1000"
        )
    sets = generated_sets(args.transactions, args.months, _until(args.until), args.seed)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} entries/s"),
        TimeElapsedColumn(),
        transient=not out.isatty(),
        disable=not out.isatty(),
    ) as progress:
        task = progress.add_task("loading", total=args.transactions + 1, rate="0")
        started = time.perf_counter()

        def update(stats: LoadStats) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=stats.transactions, rate=f"{stats.entries / elapsed:,.0f}")

        stats = await load(engine, sets, concurrency=args.concurrency, on_progress=update)
    out.write(
        f"loaded: transactions {stats.transactions} (new {stats.transactions - stats.duplicates}, "
        f"already there {stats.duplicates})  entries {stats.entries}  accounts "
        f"{len(stats.accounts)}  buckets {len(stats.buckets)}  seconds {stats.seconds:.1f}  "
        f"entries/s {stats.throughput:,.0f}\n"
    )
    return stats


async def _print_summary(engine: Engine, out: TextIO) -> None:
    """Accounts and their closing balances (the console-free view of the demo)."""
    for address in await engine.accounts():
        rows = await engine.balance(address)
        figures = "  ".join(f"{row.currency} {row.closing}" for row in rows)
        out.write(f"{address!s:70} {figures}\n")


async def seal_with_progress(engine: Engine, out: TextIO, rebuild: bool = False) -> None:
    """Seal with a progress bar (on a terminal) and print what was sealed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("sealing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=not out.isatty(), disable=not out.isatty(),
    ) as progress:  # fmt: skip
        task = progress.add_task("sealing", total=None)

        def update(report: SealReport, left: int) -> None:
            progress.update(task, completed=report.nodes, total=report.nodes + left)

        report = await engine.seal(rebuild=rebuild, on_progress=update)
    through = day_start(report.sealed_through).date().isoformat()
    out.write(
        f"sealed: days before {through} (cutoff {report.cutoff.isoformat(timespec='seconds')})  "
        f"rollups {report.nodes}  accounts {report.accounts}  blocks written {report.blocks}  "
        f"seconds {report.seconds:.1f}\n"
    )
    for change in report.splits:
        out.write(
            f"split: {change.address} outgrows its partitions; its entries recorded from "
            f"{change.since.isoformat(timespec='seconds')} on go to {change.bucket} buckets "
            f"of {change.subs}\n"
        )


async def _seal(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Write balance blocks for every settled day."""
    await seal_with_progress(engine, out, args.rebuild)
    return EXIT_OK


seal = with_engine(_seal)


async def _fill(options: LedgerOptions, args: argparse.Namespace, out: TextIO, summary: bool) -> None:
    async with open_ledger(options) as engine:
        await _load_with_progress(args, engine, out)
        await seal_with_progress(engine, out)
        if summary:
            await _print_summary(engine, out)


async def _load_sample(options: LedgerOptions, args: argparse.Namespace, out: TextIO) -> None:
    async with open_ledger(options) as engine:
        await _load_with_progress(args, engine, out)
        # No seal here: a seal may only count entries recorded more than the seal margin ago,
        # so one run right after the load read every account and sealed none of what it wrote.
        margin = int(engine.policy.margin.total_seconds())
        out.write(f"balance blocks: run `ledger-tui seal` once {margin} s (the seal margin) have passed\n")


def load_sample(args: argparse.Namespace, out: TextIO) -> int:
    """Load the origin's sample plus generated sets into the chosen ledger."""
    asyncio.run(_load_sample(ledger_options(args), args, out))
    return EXIT_OK


def demo(args: argparse.Namespace, out: TextIO) -> int:
    """Fill a fresh ledger (a new temp file unless --store is given), then open the console on it."""
    options = ledger_options(args)
    if options.store is not None:
        return _demo_on(options, args, out)
    # A fresh ledger in a temp dir that goes when the demo ends (also on an error or ctrl+c).
    with tempfile.TemporaryDirectory(prefix="ledger-tui-demo-") as demo_dir:
        # The demo's ledger is private to it (no other writer), so it may seal with no margin.
        store = f"sqlite:{Path(demo_dir) / 'demo.sqlite'}"
        options = LedgerOptions(store=store, balances=options.balances, seal_margin=timedelta(0))
        out.write(f"demo ledger: {options.store} (removed when the demo ends; --store keeps one)\n")
        return _demo_on(options, args, out)


def _demo_on(options: LedgerOptions, args: argparse.Namespace, out: TextIO) -> int:
    asyncio.run(_fill(options, args, out, summary=args.no_console))
    if args.no_console:
        return EXIT_OK
    from ..app.main import ConsoleOptions, run_console

    first = sample_entry_set().legs[0]  # the origin's main account, in its month
    assert first.effective_at is not None
    start_on = (first.address, bucket_of(first.effective_at))
    return run_console(options, ConsoleOptions(start_screen="browse", initial_account=start_on))


def console(args: argparse.Namespace, out: TextIO) -> int:
    """Open the console on the chosen ledger (what ``ledger-tui`` with no command does)."""
    from ..app.main import SCREEN_NAMES, ConsoleOptions, ScreenName, run_console

    options, settings, state = ledger_options(args), config_settings(), read_state()
    if args.store is None and not os.environ.get("LEDGER_STORE") and state.store:
        options = replace(options, store=state.store)  # the last store wins over the config's default
    screen: ScreenName = next((name for name in SCREEN_NAMES if name == state.screen), "compose")
    theme = args.theme or state.theme or settings.theme
    page_size = args.page_size or settings.page_size
    return run_console(
        options, ConsoleOptions(start_screen=screen, theme=theme, page_size=page_size, remember=True)
    )
