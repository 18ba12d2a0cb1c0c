"""``restore`` and ``copy``: a dump into an empty ledger, or one ledger straight into another, proven equal.

Why both end on a digest: a restore is only done when the target holds exactly the books that were
dumped, so each compares the digest of what it wrote with the source's and says so (exit 4 if not).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import TextIO

from ..domain.dump import DumpFooter, DumpHeader, parse_footer, parse_header, parse_set_line
from ..domain.dump_extras import is_extra_line, parse_extra_line
from ..domain.errors import LedgerError, ValidationError
from ..domain.holds import Hold
from ..domain.limits import LimitChange
from ..domain.model import RecordedTransaction
from ..domain.parse import loads_exact
from ..engine import Engine
from ..engine.books import CopyTally, copy_books
from ..ledger import LedgerOptions, open_ledger
from ..loader import DEFAULT_CHUNK, LoadStats, load
from ..loader.processes import can_fork, default_workers
from ..store.url import CassandraUrl, parse_store_url
from .common import (
    EXIT_DISCREPANCY,
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    instant_flag,
    ledger_options,
    whole_number,
)
from .dump_commands import progress
from .forked import in_a_forked_child
from .import_lines import NOT_UTF8, LineProblems, NotUtf8Line, open_source
from .import_pool import ImportPool

#: Namespace of a copy's id: one per source, so a copy cut short may be run again into its target.
COPY_NAMESPACE = uuid.UUID("3d5e6f70-8a9b-4c1d-9e2f-a0b1c2d3e4f5")


class DumpLines:
    """The set lines of a dump after its header, parsed one by one; the footer once reached."""

    def __init__(self, source: TextIO) -> None:
        self._source = source
        self.line = 1
        self.footer: DumpFooter | None = None
        self.problems = LineProblems()
        self.holds: list[Hold] = []
        self.limits: list[LimitChange] = []

    def __iter__(self) -> Iterator[RecordedTransaction]:
        for text in self._source:
            self.line += 1
            if self.footer is not None:
                self._refuse("a line after the dump's last line")
            if text.startswith('{"end":'):
                self.footer = self.read_footer(text)
                continue
            try:
                if is_extra_line(text):  # kept for after the sets
                    found = parse_extra_line(text)
                    if isinstance(found, Hold):
                        self.holds.append(found)
                    else:
                        self.limits.append(found)
                    continue
                yield parse_set_line(text)
            except LedgerError as error:
                self._refuse(str(error))

    def read_footer(self, text: str) -> DumpFooter:
        try:
            data = loads_exact(text)
            if not isinstance(data, dict):
                raise ValidationError.single("footer", "must be a JSON object")
            return parse_footer(data)
        except LedgerError as error:
            self._refuse(str(error))
            raise AssertionError("unreachable") from None

    def _refuse(self, reason: str) -> None:
        self.problems.add(self.line, reason)
        raise Refused(self.line)


class Refused(Exception):
    """A line of the dump cannot be restored; nothing of its chunk, or after it, was written."""


def restore(args: argparse.Namespace, out: TextIO) -> int:
    """``restore``: in worker processes on Cassandra when the platform allows (as ``import``),
    else in this one; both end by digesting the restored ledger."""
    options = ledger_options(args)
    if not isinstance(parse_store_url(options.store), CassandraUrl) or not can_fork():
        return asyncio.run(_restore_here(args, options, out))
    with open_source(args.file) as source:
        header = _header(source)
        resumed = _prepared_in_a_child(options, header)  # the driver never runs here before the fork
        pool = ImportPool(
            source, options, workers=default_workers(), chunk=args.chunk, skip_bad=False, restoring=True
        )
        pool.start()
        with progress("restoring", out) as update:
            pool.on_progress = lambda stats: update(stats.transactions, stats.entries, stats.seconds)
            result = pool.run()
    if result.aborted:
        return _stopped(result.problems.in_line_order().shown, result.stats.seconds, out)
    if pool.footer is None:
        return _cut_short(out)
    number, text = pool.footer
    lines = DumpLines(io.StringIO())
    lines.line = number - 1
    try:
        footer = lines.read_footer(text)
    except Refused:
        return _stopped(lines.problems.shown, result.stats.seconds, out)

    async def close() -> int:
        async with open_ledger(options) as engine:
            return await _closing(engine, result.stats, footer, resumed, out)

    return asyncio.run(close())


def _header(source: TextIO) -> DumpHeader:
    try:
        return parse_header(source.readline())
    except NotUtf8Line:
        raise ValidationError.single("dump", "line 1 is not UTF-8 text") from None


async def _prepare(options: LedgerOptions, header: DumpHeader) -> bool:
    async with open_ledger(options) as engine:
        return await engine.books().prepare_restore(str(header.dump_id), header.settings, header.layouts)


def _prepared_in_a_child(options: LedgerOptions, header: DumpHeader) -> bool:
    """``prepare_restore`` in a forked child, so this process forks its workers with no driver
    thread running."""
    return bool(in_a_forked_child(lambda: _prepare(options, header), "restore's preparation"))


async def _restore_here(args: argparse.Namespace, options: LedgerOptions, out: TextIO) -> int:
    async with open_ledger(options) as engine, _opened(args.file) as source:
        header = _header(source)
        books = engine.books()
        resumed = await books.prepare_restore(str(header.dump_id), header.settings, header.layouts)
        await engine.reload_settings()
        lines = DumpLines(source)
        started = time.perf_counter()
        try:
            with progress("restoring", out) as update:
                stats = await load(
                    engine,
                    lines,
                    chunk=args.chunk or DEFAULT_CHUNK,
                    write=books.restore,
                    on_progress=lambda s: update(s.transactions, s.entries, s.seconds),
                )
        except (Refused, NotUtf8Line) as error:
            if isinstance(error, NotUtf8Line):
                lines.problems.add(error.line, NOT_UTF8)
            return _stopped(lines.problems.shown, time.perf_counter() - started, out)
        if lines.footer is None:
            return _cut_short(out)
        added = await books.restore_holds_and_limits(lines.holds, lines.limits)
        _held(out, len(lines.holds), len(lines.limits), added)
        return await _closing(engine, stats, lines.footer, resumed, out)


def _held(out: TextIO, holds: int, limits: int, added: int) -> None:
    if holds or limits:
        out.write(f"holds {holds}  limit changes {limits}  (new {added})\n")


@contextlib.asynccontextmanager
async def _opened(path: str) -> AsyncIterator[TextIO]:
    with open_source(path) as source:
        yield source


def _stopped(problems: list[str], seconds: float, out: TextIO) -> int:
    for text in problems:
        out.write(f"problem: {text}\n")
    out.write(
        f"restore: stopped at a bad line after {seconds:.1f} s; the sets before its chunk are "
        "recorded: fix the dump and rerun (they are duplicates then)\n"
    )
    return EXIT_REJECTED


def _cut_short(out: TextIO) -> int:
    out.write("restore: the dump has no last line (it was cut short): the sets read are recorded\n")
    return EXIT_REJECTED


async def _closing(engine: Engine, stats: LoadStats, footer: DumpFooter, resumed: bool, out: TextIO) -> int:
    """Seal, digest the restored ledger, and say whether it holds exactly the dumped books."""
    await engine.seal()
    restored = await engine.books().digest()
    note = " (resumed)" if resumed else ""
    out.write(
        f"restore{note}: sets {stats.transactions} (new {stats.transactions - stats.duplicates}, already "
        f"there {stats.duplicates}, conflicting {stats.conflicts})  entries {stats.entries}  seconds "
        f"{stats.seconds:.1f}  entries/s {stats.throughput:,.0f}\n"
    )
    same = restored.hexdigest == footer.digest and restored.sets == footer.sets and not stats.conflicts
    verdict = "equal" if same else "DIFFERENT"
    out.write(f"digest: dump {footer.digest}  restored {restored.hexdigest}  {verdict}\n")
    return EXIT_OK if same else EXIT_DISCREPANCY


def copy(args: argparse.Namespace, out: TextIO) -> int:
    """``copy --to URL``: every set of this ledger into the (empty) ledger at URL, then both digests."""
    source_options = ledger_options(args)
    target_options = replace(
        source_options, store=args.to, credentials=None, credentials_file=args.to_credentials
    )
    if source_options.store is not None and source_options.store == args.to:
        raise UsageError("--to names the ledger being copied: copy into another one")
    return asyncio.run(_copy(args, source_options, target_options, out))


async def _copy(args: argparse.Namespace, source: LedgerOptions, target: LedgerOptions, out: TextIO) -> int:
    as_of = instant_flag("--as-of", args.as_of)
    async with open_ledger(source) as source_engine, open_ledger(target) as target_engine:
        await target_engine.apply_schema()
        books = source_engine.books()
        copy_id = uuid.uuid5(COPY_NAMESPACE, f"{source_engine.info.kind}:{source_engine.info.target}:{as_of}")
        into = target_engine.books()
        resumed = await into.prepare_restore(str(copy_id), await books.settings(), await books.layouts())
        await target_engine.reload_settings()
        await target_engine.repair()
        started = time.perf_counter()
        with progress("copying", out) as update:
            tally = await copy_books(
                books,
                into,
                as_of=as_of,
                on_progress=lambda t: update(t.digest.sets, t.digest.entries, time.perf_counter() - started),
            )
        holds, history = await books.holds_and_limits(as_of)
        _held(out, len(holds), len(history), await into.restore_holds_and_limits(holds, history))
        stats = _stats(tally, time.perf_counter() - started)
        footer = DumpFooter(tally.digest.sets, tally.digest.entries, tally.digest.hexdigest)
        out.write(f"copy: {source_engine.info.kind} {source_engine.info.target} -> {target_engine.info.kind} "
                  f"{target_engine.info.target}\n")  # fmt: skip
        return await _closing(target_engine, stats, footer, resumed, out)


def _stats(tally: CopyTally, seconds: float) -> LoadStats:
    stats = LoadStats(seconds=seconds)
    stats.transactions = tally.new + tally.already_there
    stats.duplicates = tally.already_there
    stats.conflicts = tally.conflicting
    stats.entries = tally.digest.entries
    return stats


def add_restore_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``restore`` and ``copy`` on the command line."""
    restorer = commands.add_parser(
        "restore",
        help="every entry set of a dump into an empty ledger, with its recording times (rerun-safe)",
        description="Refused into a ledger holding other sets; a rerun of the same dump resumes. "
        "Ends by comparing the restored ledger's digest with the dump's.",
    )
    restorer.add_argument("file", help="a dump from `ledger-tui dump`, or - for standard input")
    restorer.add_argument(
        "--chunk", type=whole_number, default=None, help=f"sets written together (default {DEFAULT_CHUNK})"
    )
    restorer.set_defaults(handler=restore)
    copier = commands.add_parser(
        "copy",
        help="copy this ledger into another (empty) one, e.g. the embedded file into a cluster",
        description="A dump piped into a restore: same sets, same recording times; ends by comparing "
        "both ledgers' digests. A copy cut short may be run again.",
    )
    copier.add_argument("--to", required=True, help="the store URL of the ledger to copy into")
    copier.add_argument(
        "--to-credentials", default=None, help="a credentials file for the target (Cassandra)"
    )
    copier.add_argument("--as-of", help="copy the books as recorded at this instant")
    copier.set_defaults(handler=copy)
