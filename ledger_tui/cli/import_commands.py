"""``import`` and ``repair``: entry sets as JSON Lines through the bulk path, and crash repair.

Import reads one entry set per line (the origin's format plus a required ``transaction_id``, so
a rerun is exact), validates a chunk completely before any of it is written, and records it
through the loader's bulk path. A bad line either aborts (default: nothing of its chunk is
written, earlier chunks stand and are duplicates on the rerun) or is skipped (``--on-error
skip``); ``--check`` validates the whole file and writes nothing.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from ..domain.claims import RecordOutcome
from ..domain.document import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_TEXT
from ..domain.errors import LedgerError
from ..domain.model import EntrySet
from ..domain.parse import entry_set_from_data, loads_exact
from ..engine import Engine
from ..loader import DEFAULT_CHUNK, LoadStats, load
from .common import EXIT_OK, EXIT_REJECTED, UsageError, with_engine

#: Problems printed in full; the rest are counted.
SHOWN_PROBLEMS = 20


@dataclass(slots=True)
class LineProblems:
    """Bad or conflicting lines: the first few in full, then a count."""

    shown: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, line: int, reason: str) -> None:
        """Keep one problem (the first ``SHOWN_PROBLEMS`` verbatim)."""
        if len(self.shown) < SHOWN_PROBLEMS:
            self.shown.append(f"line {line}: {reason}")
        else:
            self.more += 1

    def __len__(self) -> int:
        return len(self.shown) + self.more


class Aborted(Exception):
    """A bad line under ``--on-error abort``: the import stops before its chunk is written."""


def parse_line(text: str) -> EntrySet:
    """One JSON Lines entry set; a missing ``transaction_id`` is an error (reruns must be exact)."""
    data = loads_exact(text)
    if not isinstance(data, dict):
        raise LedgerError("must be a JSON object (one entry set per line)")
    if "transaction_id" not in data:
        raise LedgerError("transaction_id: required for import (so that a rerun is exact)")
    return entry_set_from_data(data)


class LineTooLong(LedgerError):
    """A line longer than one document may be: reading stops (the rest may never end: /dev/zero)."""


def _lines(source: TextIO) -> Iterator[tuple[int, str]]:
    number = 0
    while text := source.readline(MAX_DOCUMENT_BYTES + 1):  # bounded: never a whole huge line
        number += 1
        if len(text) > MAX_DOCUMENT_BYTES:
            raise LineTooLong(f"line {number}: longer than {MAX_DOCUMENT_TEXT}; the import stops here")
        if text.strip():
            yield number, text


class LineReader:
    """Yields valid entry sets and remembers each one's line number (for the outcomes)."""

    def __init__(self, source: TextIO, skip_bad: bool, chunk: int) -> None:
        self._source = source
        self._skip_bad = skip_bad
        self._chunk = chunk
        self.problems = LineProblems()
        self.line_of: list[int] = []
        self.lines = 0

    def __iter__(self) -> Iterator[EntrySet]:
        pending: list[tuple[int, EntrySet]] = []
        for number, text in _lines(self._source):
            self.lines += 1
            try:
                pending.append((number, parse_line(text)))
            except (LedgerError, ValueError) as error:
                self.problems.add(number, str(error))
                if not self._skip_bad:
                    raise Aborted from None
            if len(pending) >= self._chunk:  # a chunk is handed on only once all of it is valid
                yield from self._hand_on(pending)
                pending = []
        yield from self._hand_on(pending)

    def _hand_on(self, pending: list[tuple[int, EntrySet]]) -> Iterator[EntrySet]:
        for number, entry_set in pending:
            self.line_of.append(number)
            yield entry_set


def _open(path: str) -> TextIO:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict")
    try:
        return open(path, encoding="utf-8", errors="strict")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


async def _import(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    if args.chunk < 1:
        raise UsageError("--chunk must be at least 1")
    with _open(args.file) as source:
        reader = LineReader(source, skip_bad=args.on_error == "skip" or args.check, chunk=args.chunk)
        if args.check:
            count = sum(1 for _ in reader)
            _print_problems(reader.problems, out)
            out.write(f"checked: lines {reader.lines}  valid {count}  bad {len(reader.problems)}\n")
            return EXIT_REJECTED if reader.problems else EXIT_OK
        conflicts = LineProblems()

        def judge(offset: int, outcomes: list[RecordOutcome]) -> None:
            for index, outcome in enumerate(outcomes, start=offset):
                if outcome.conflicting:
                    txid = outcome.transaction.transaction_id
                    conflicts.add(
                        reader.line_of[index], f"transaction {txid} already recorded with other legs"
                    )

        started = time.perf_counter()
        try:
            stats = await _with_progress(engine, reader, args, out, judge)
        except (Aborted, UnicodeDecodeError) as error:
            if isinstance(error, UnicodeDecodeError):
                reader.problems.add(reader.lines + 1, "not UTF-8 text")
            _print_problems(reader.problems, out)
            written = len(reader.line_of)
            out.write(
                f"import: aborted at a bad line; {written} set(s) before its chunk were recorded "
                f"({time.perf_counter() - started:.1f} s). Fix the line and rerun: those are duplicates.\n"
            )
            return EXIT_REJECTED
    _print_problems(reader.problems, out)
    _print_problems(conflicts, out)
    out.write(
        f"imported: sets {stats.transactions} (new {stats.transactions - stats.duplicates}, "
        f"already there {stats.duplicates}, conflicting {stats.conflicts}, bad lines "
        f"{len(reader.problems)})  entries {stats.entries}  seconds {stats.seconds:.1f}  "
        f"entries/s {stats.throughput:,.0f}\n"
    )
    return EXIT_REJECTED if reader.problems or stats.conflicts else EXIT_OK


async def _with_progress(
    engine: Engine,
    reader: LineReader,
    args: argparse.Namespace,
    out: TextIO,
    judge: Callable[[int, list[RecordOutcome]], None],
) -> LoadStats:
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

        return await load(engine, reader, chunk=args.chunk, on_progress=update, on_outcomes=judge)


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


import_entry_sets = with_engine(_import)
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
        "--chunk", type=int, default=DEFAULT_CHUNK, help="sets validated and written together"
    )
    importer.set_defaults(handler=import_entry_sets)
    commands.add_parser(
        "repair", help="complete entry sets whose write was interrupted (idempotent)"
    ).set_defaults(handler=repair)
