"""``dump`` and ``digest``: a whole ledger as JSON Lines in commit order, and its books as one number.

Why sorted by recorded time with a bounded external sort: a dump reads (and diffs) as the books
were recorded, whatever order the store scans in, and its memory stays flat at any size.
"""

from __future__ import annotations

import argparse
import heapq
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, TextIO

from ..domain.dump import BooksDigest, DumpFooter, DumpHeader, set_line
from ..domain.dump_extras import hold_line, limit_line
from ..domain.timeutil import to_epoch_ms
from ..engine import Engine
from .common import EXIT_OK, UsageError, instant_flag, with_engine

#: Lines sorted in memory at once before they go to a temporary run (a few tens of MB at most).
SORT_RUN = 20_000


async def _dump(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    as_of = instant_flag("--as-of", args.as_of)
    books = engine.books()
    header = DumpHeader(uuid.uuid4(), as_of, await books.settings(), await books.layouts())
    to_stdout = args.file == "-"
    report = sys.stderr if to_stdout else out
    digest = BooksDigest()
    started = time.perf_counter()
    with ExitStack() as stack:
        runs = SortedRuns(stack)
        with progress("dumping", report) as update:
            async for page in books.sets(as_of):
                for transaction in page:
                    digest.add(transaction)
                    runs.add(
                        f"{to_epoch_ms(transaction.recorded_at):015d} {transaction.transaction_id}",
                        set_line(transaction),
                    )
                update(digest.sets, digest.entries, time.perf_counter() - started)
        holds, history = await books.holds_and_limits(as_of)
        target = sys.stdout if to_stdout else stack.enter_context(open_output(args.file))
        target.write(header.to_line())
        target.writelines(runs.merged())
        target.writelines(limit_line(change) for change in history)
        target.writelines(hold_line(hold) for hold in holds)
        target.write(DumpFooter(digest.sets, digest.entries, digest.hexdigest).to_line())
        target.flush()
    seconds = time.perf_counter() - started
    where = "standard output" if to_stdout else str(Path(args.file).resolve())
    report.write(
        f"dump: sets {digest.sets}  entries {digest.entries}  digest {digest.hexdigest}  "
        f"holds {len(holds)}  limit changes {len(history)}  seconds {seconds:.1f}  "
        f"entries/s {digest.entries / seconds if seconds else 0:,.0f}  to {where}\n"
    )
    return EXIT_OK


def open_output(path: str, what: str = "dump") -> IO[str]:
    """A new file to write (never over an existing one: a dump is a backup)."""
    try:
        return open(path, "x", encoding="utf-8")
    except FileExistsError:
        raise UsageError(f"{path} exists: {what} to a new file") from None
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


class SortedRuns:
    """Lines by key, sorted in runs of ``SORT_RUN`` kept in temporary files, merged at the end."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._pending: list[tuple[str, str]] = []
        self._runs: list[IO[str]] = []

    def add(self, key: str, line: str) -> None:
        """One line under ``key`` (keys of equal length sort as text)."""
        self._pending.append((key, line))
        if len(self._pending) >= SORT_RUN:
            self._spill()

    def _spill(self) -> None:
        run = self._stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))  # noqa: SIM115
        self._pending.sort()
        run.writelines(f"{key}\t{line}" for key, line in self._pending)
        run.seek(0)
        self._runs.append(run)
        self._pending = []

    def merged(self) -> Iterator[str]:
        """Every line, in key order."""
        if not self._runs:
            self._pending.sort()
            yield from (line for _, line in self._pending)
            return
        if self._pending:
            self._spill()
        for keyed in heapq.merge(*self._runs):
            yield keyed.split("\t", 1)[1]


async def _digest(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    digest = await engine.books().digest(instant_flag("--as-of", args.as_of))
    out.write(f"digest: {digest.hexdigest}  sets {digest.sets}  entries {digest.entries}\n")
    return EXIT_OK


dump = with_engine(_dump)
digest = with_engine(_digest)


@contextmanager
def progress(what: str, out: TextIO) -> Iterator[Callable[[int, int, float], None]]:
    """A transient progress line on a terminal (sets, entries/s); the update it is fed by."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn(f"{what}: {{task.fields[sets]}} sets  {{task.fields[rate]}} entries/s"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(file=out),
        disable=not out.isatty(),
    ) as bar:
        task = bar.add_task(what, total=None, sets="0", rate="0")

        def update(sets: int, entries: int, seconds: float) -> None:
            rate = entries / seconds if seconds else 0.0
            bar.update(task, sets=f"{sets:,}", rate=f"{rate:,.0f}")

        yield update


def add_dump_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``dump`` and ``digest`` on the command line (``restore`` and ``copy``: restore_commands.py)."""
    dumper = commands.add_parser(
        "dump",
        help="every entry set of the ledger as JSON Lines, in commit order (a backup; restore reads it)",
        description="Each line keeps its transaction id, legs, effective times and recording time; "
        "the last line counts the sets and gives the books' digest.",
    )
    dumper.add_argument("file", nargs="?", default="-", help="a new file (default: standard output)")
    dumper.add_argument("--as-of", help="the books as recorded at this instant (ISO 8601 or epoch ms)")
    dumper.set_defaults(handler=dump)
    digester = commands.add_parser(
        "digest",
        help="one digest of every entry set: equal for two ledgers exactly when they hold the same sets",
    )
    digester.add_argument("--as-of", help="the books as recorded at this instant")
    digester.set_defaults(handler=digest)
