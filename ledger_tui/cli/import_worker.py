"""One process of a parallel import: parses the chunks it is given, writes those it is told to.

Why: parsing and encoding a chunk is the import's CPU cost, so ``import --workers N`` gives it to
N processes, each with its own engine (concurrent importers are safe: claims keep every set
exact). The coordinator (import_pool.py) decides which checked chunk may be written, so a bad
line still stops the import before anything of its chunk, or of any later chunk, is written.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ..domain.claims import RecordOutcome
from ..domain.dump import parse_set_line
from ..domain.errors import AccessDenied, LedgerError, StoreBusy, StoreUnavailable, TlsFailure
from ..domain.model import EntrySet, RecordedTransaction
from ..engine import Engine
from ..ledger import LedgerOptions, open_ledger
from ..loader import LoadStats, few_collections
from .import_lines import SHOWN_PROBLEMS, conflict_reason, parse_line

#: How a worker's refusal crosses to the coordinator: a name, and the class it is raised as
#: there (most specific first; NotConfirmed travels as StoreUnavailable with its own text).
ERROR_KINDS: tuple[tuple[str, type[LedgerError]], ...] = (
    ("busy", StoreBusy),
    ("unavailable", StoreUnavailable),
    ("access", AccessDenied),
    ("tls", TlsFailure),
    ("rejected", LedgerError),
)
#: Linux's prctl option that sends a signal to a process when its parent dies.
_PR_SET_PDEATHSIG = 1

# The pipe's messages. To a worker: ("parse", index, [(line, text), ...]), ("write", index),
# ("stop",). From it: ("ready",) (connected; repaired if it was asked to repair),
# ("checked", index, problems, more, valid), ("written", index, ChunkTally), and
# ("failed", kind, text, index) or ("crashed", text, index) (index: the chunk whose write
# failed, or None), after which it writes nothing more: a later "write" is answered
# ("dropped", index).


@dataclass(slots=True)
class ChunkTally:
    """What writing one chunk did: the counts, and its conflicting lines (the first few in full)."""

    stats: LoadStats
    conflicting: list[tuple[int, str]] = field(default_factory=list)
    more_conflicting: int = 0

    @classmethod
    def of(cls, outcomes: list[RecordOutcome], line_of: list[int]) -> ChunkTally:
        """Count a chunk's outcomes (``line_of[i]``: the line of its i-th set)."""
        stats = LoadStats()
        stats.count(outcomes, indexes=False)  # an import reports counts only: less to send
        tally = cls(stats)
        for line, outcome in zip(line_of, outcomes, strict=True):
            if not outcome.conflicting:
                continue
            if len(tally.conflicting) < SHOWN_PROBLEMS:
                tally.conflicting.append((line, conflict_reason(outcome)))
            else:
                tally.more_conflicting += 1
        return tally


@dataclass(slots=True)
class ParsedChunk:
    """A chunk's valid sets with their line numbers, and its bad lines (the first few in full)."""

    sets: list[Any] = field(default_factory=list)
    line_of: list[int] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    more: int = 0


def parse_chunk(lines: list[tuple[int, str]], skip_bad: bool, restoring: bool = False) -> ParsedChunk:
    """Parse a chunk's lines (entry sets; ``restoring``: a dump's recorded sets); without
    ``skip_bad`` parsing stops at the first bad line."""
    chunk = ParsedChunk()
    parse: Callable[[str], EntrySet | RecordedTransaction] = parse_set_line if restoring else parse_line
    for number, text in lines:
        try:
            entry_set = parse(text)
        except (LedgerError, ValueError) as error:
            if len(chunk.problems) < SHOWN_PROBLEMS:
                chunk.problems.append((number, str(error)))
            else:
                chunk.more += 1
            if not skip_bad:
                break
            continue
        chunk.sets.append(entry_set)
        chunk.line_of.append(number)
    return chunk


def refusal_kind(error: LedgerError) -> str:
    """The name a refusal crosses the pipe under."""
    return next(name for name, kind in ERROR_KINDS if isinstance(error, kind))


def run_worker(
    connection: Connection,
    options: LedgerOptions,
    skip_bad: bool,
    repairs: bool,
    parent: int,
    restoring: bool = False,
) -> None:
    """A worker process's body (forked: the options, credentials included, never cross a pipe)."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    with few_collections():
        asyncio.run(_serve(connection, options, skip_bad, repairs, restoring))


def _die_with_parent(parent: int) -> None:
    """Be killed with the coordinator (kill -9 of an import stops all of it, as with one process)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _inbox(connection: Connection) -> asyncio.Queue[tuple[object, ...]]:
    """Messages from the coordinator, read by a thread so that writes in flight go on meanwhile."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[object, ...]] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):  # the coordinator is gone
                message = ("stop",)
            loop.call_soon_threadsafe(inbox.put_nowait, message)
            if message[0] == "stop":
                return

    threading.Thread(target=read, name="import-inbox", daemon=True).start()
    return inbox


async def _serve(
    connection: Connection, options: LedgerOptions, skip_bad: bool, repairs: bool, restoring: bool
) -> None:
    inbox = _inbox(connection)
    try:
        async with open_ledger(options) as engine:
            if repairs:
                await engine.repair()
            connection.send(("ready",))
            await _ChunkWriter(connection, engine, skip_bad, restoring).serve(inbox)
            return
    except LedgerError as error:  # connecting, repairing or closing was refused
        connection.send(("failed", refusal_kind(error), str(error), None))
    except Exception:  # a bug: the coordinator logs it
        connection.send(("crashed", traceback.format_exc(), None))
    while (message := await inbox.get())[0] != "stop":  # write nothing more; say so
        if message[0] == "write":
            connection.send(("dropped", message[1]))


class _ChunkWriter:
    """Parses chunks as they come and writes those the coordinator releases."""

    def __init__(self, connection: Connection, engine: Engine, skip_bad: bool, restoring: bool) -> None:
        self._connection, self._engine, self._skip_bad = connection, engine, skip_bad
        self._restoring = restoring
        self._write_sets = engine.books().restore if restoring else engine.record_batch
        self._parsed: dict[int, ParsedChunk] = {}
        self._failed = False

    async def serve(self, inbox: asyncio.Queue[tuple[object, ...]]) -> None:
        """Until ``stop``; a started chunk finishes whole before it returns."""
        writes: set[asyncio.Task[None]] = set()
        try:
            while (message := await inbox.get())[0] != "stop":
                index = message[1]
                assert isinstance(index, int)
                if message[0] == "parse":
                    lines = message[2]
                    assert isinstance(lines, list)
                    chunk = self._parsed[index] = parse_chunk(lines, self._skip_bad, self._restoring)
                    self._connection.send(("checked", index, chunk.problems, chunk.more, len(chunk.sets)))
                elif self._failed:
                    self._connection.send(("dropped", index))
                else:
                    task = asyncio.create_task(self._write(index))
                    writes.add(task)
                    task.add_done_callback(writes.discard)
        finally:
            await asyncio.gather(*writes)

    async def _write(self, index: int) -> None:
        chunk = self._parsed.pop(index)
        try:
            outcomes = await self._write_sets(chunk.sets)
        except LedgerError as error:
            self._failed = True
            self._connection.send(("failed", refusal_kind(error), str(error), index))
        except Exception:
            self._failed = True
            self._connection.send(("crashed", traceback.format_exc(), index))
        else:
            self._connection.send(("written", index, ChunkTally.of(outcomes, chunk.line_of)))
