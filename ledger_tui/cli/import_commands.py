"""``import`` and ``repair``: entry sets as JSON Lines through the bulk path, and crash repair.

A line is an entry set in the origin's format plus a required ``transaction_id``, so a rerun is
exact; a chunk is validated whole before any of it is written, so a bad line aborts with nothing
of its chunk written (earlier chunks stand: duplicates on the rerun) unless ``--on-error skip``.
On Cassandra, worker processes (import_pool.py) parse and write chunks under the same rules.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ..domain.claims import RecordOutcome
from ..engine import Engine
from ..ledger import LedgerOptions, open_ledger
from ..loader import DEFAULT_CHUNK, LoadStats, load
from ..loader.processes import MAX_DEFAULT_WORKERS, MAX_WORKERS, can_fork, default_workers
from ..store.url import CassandraUrl, parse_store_url
from .common import EXIT_OK, EXIT_REJECTED, UsageError, ledger_options, whole_number, with_engine
from .import_lines import (
    MAX_CHUNK,
    MIN_CHUNK,
    Aborted,
    LineProblems,
    LineReader,
    conflict_reason,
    open_source,
)
from .import_pool import ImportPool


def import_entry_sets(args: argparse.Namespace, out: TextIO) -> int:
    """``import``: in worker processes when the store and the platform allow, else in this one."""
    if args.chunk is not None and args.chunk < 1:
        raise UsageError("--chunk must be at least 1")
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be from 1 to {MAX_WORKERS}")
    options = ledger_options(args)
    workers = _workers(args, options)
    if workers == 1:
        return _one_process(args, options, out)
    with open_source(args.file) as source:
        skip_bad = args.on_error == "skip"
        pool = ImportPool(source, options, workers=workers, chunk=args.chunk, skip_bad=skip_bad)
        pool.start()
        with _progress(out) as update:
            pool.on_progress = update
            result = pool.run()
    problems = result.problems.in_line_order()
    if result.aborted:
        return _report_abort(problems, result.written, result.stats.seconds, out)
    return _report(result.stats, problems, result.conflicts.in_line_order(), out)


def _workers(args: argparse.Namespace, options: LedgerOptions) -> int:
    """How many processes import: one for --check, the embedded store (one writer at a time
    anyway) or where forking is unsafe; else --workers, by default one per core (at most 4)."""
    if args.check or not isinstance(parse_store_url(options.store), CassandraUrl) or not can_fork():
        return 1
    return default_workers() if args.workers is None else int(args.workers)


async def _import(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    chunk = args.chunk or DEFAULT_CHUNK
    with open_source(args.file) as source:
        reader = LineReader(source, skip_bad=args.on_error == "skip" or args.check, chunk=chunk)
        if args.check:
            count = 0
            for _ in reader:
                count += 1
            _print_problems(reader.problems, out)
            out.write(f"checked: lines {reader.lines}  valid {count}  bad {len(reader.problems)}\n")
            return EXIT_REJECTED if reader.problems else EXIT_OK
        conflicts = LineProblems()

        def judge(offset: int, outcomes: list[RecordOutcome]) -> None:
            for index, outcome in enumerate(outcomes, start=offset):
                if outcome.rejected:
                    conflicts.add(reader.line_of[index], conflict_reason(outcome))

        started = time.perf_counter()
        try:
            with _progress(out) as update:
                stats = await load(engine, reader, chunk=chunk, on_progress=update, on_outcomes=judge)
        except Aborted:
            seconds = time.perf_counter() - started
            return _report_abort(reader.problems, len(reader.line_of), seconds, out)
    return _report(stats, reader.problems, conflicts, out)


def _one_process(args: argparse.Namespace, options: LedgerOptions, out: TextIO) -> int:
    async def run() -> int:
        async with open_ledger(options) as engine:
            return await _import(args, engine, out)

    return asyncio.run(run())


def _report(stats: LoadStats, problems: LineProblems, conflicts: LineProblems, out: TextIO) -> int:
    _print_problems(problems, out)
    _print_problems(conflicts, out)
    out.write(
        f"imported: sets {stats.transactions} (new {stats.transactions - stats.duplicates}, "
        f"already there {stats.duplicates}, conflicting {stats.conflicts}, bad lines "
        f"{len(problems)})  entries {stats.entries}  seconds {stats.seconds:.1f}  "
        f"entries/s {stats.throughput:,.0f}\n"
    )
    return EXIT_REJECTED if problems or stats.conflicts else EXIT_OK


def _report_abort(problems: LineProblems, written: int, seconds: float, out: TextIO) -> int:
    _print_problems(problems, out)
    out.write(
        f"import: aborted at a bad line; {written} set(s) before its chunk were recorded "
        f"({seconds:.1f} s). Fix the line and rerun: those are duplicates.\n"
    )
    return EXIT_REJECTED


@contextmanager
def _progress(out: TextIO) -> Iterator[Callable[[LoadStats], None]]:
    """A transient progress line on a terminal (sets, entries/s); the update it is fed by."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("importing: {task.fields[sets]} sets  {task.fields[rate]} entries/s"),
        TimeElapsedColumn(),
        transient=True,
        disable=not out.isatty(),
    ) as progress:
        task = progress.add_task("import", total=None, sets="0", rate="0")

        def update(stats: LoadStats) -> None:
            progress.update(task, sets=f"{stats.transactions:,}", rate=f"{stats.throughput:,.0f}")

        yield update


def _print_problems(problems: LineProblems, out: TextIO) -> None:
    for text in problems.shown:
        out.write(f"problem: {text}\n")
    if problems.more:
        out.write(f"problem: ... and {problems.more} more\n")


async def _repair(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    report = await engine.repair()
    through = report.repaired_through
    checked = "" if through is None else f"  claim log checked to {through:%Y-%m-%d %H:%M}Z"
    out.write(f"repair: unfinished writes {report.unfinished}  sets completed {report.completed}{checked}\n")
    return EXIT_OK


repair = with_engine(_repair)


def add_import_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``import`` and ``repair`` on the command line."""
    importer = commands.add_parser(
        "import",
        help="import entry sets from JSON Lines (one set per line, transaction_id required)",
        description="Idempotent and resumable: a rerun records nothing twice. Runs repair first.",
    )
    importer.add_argument("file", help="JSON Lines file, or - for standard input (UTF-8)")
    importer.add_argument(
        "--on-error",
        choices=["abort", "skip"],
        default="abort",
        help="a bad line stops the import before its chunk is written (abort), or is reported and skipped",
    )
    importer.add_argument("--check", action="store_true", help="validate every line, write nothing")
    importer.add_argument(
        "--chunk",
        type=whole_number,
        default=None,
        help=f"sets validated and written together (default {DEFAULT_CHUNK}; with workers, {MIN_CHUNK}"
        f" to {MAX_CHUNK} by the file's size)",
    )
    importer.add_argument(
        "--workers",
        type=whole_number,
        default=None,
        help="processes that parse and write (Cassandra; default: one per core, at most "
        f"{MAX_DEFAULT_WORKERS}; the embedded store imports in one)",
    )
    importer.set_defaults(handler=import_entry_sets)
    commands.add_parser(
        "repair", help="complete entry sets whose write was interrupted (idempotent)"
    ).set_defaults(handler=repair)
