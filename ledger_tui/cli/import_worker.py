"""One process of a parallel import: parses the chunks it is given, writes those it is told to.

Why: parsing and encoding a chunk is the import's CPU cost, so ``import --workers N`` gives it to
N processes, each with its own engine (concurrent importers are safe: claims keep every set
exact). The coordinator (import_pool.py) decides which checked chunk may be written, so a bad
line still stops the import before anything of its chunk, or of any later chunk, is written.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ..domain.claims import RecordOutcome
from ..domain.dump import parse_set_line
from ..domain.errors import LedgerError
from ..domain.model import EntrySet, RecordedTransaction
from ..engine import Engine
from ..ledger import LedgerOptions
from ..loader import LoadStats
from ..loader.processes import Inbox, refusal_kind, worker_main
from .import_lines import SHOWN_PROBLEMS, conflict_reason, parse_line

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
            if not outcome.rejected:
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


def run_worker(
    connection: Connection,
    options: LedgerOptions,
    skip_bad: bool,
    repairs: bool,
    parent: int,
    restoring: bool = False,
) -> None:
    """A worker process's body: connects, repairs if ``repairs``, then parses and writes chunks."""

    async def body(engine: Engine, messages: Inbox) -> None:
        await _ChunkWriter(connection, engine, skip_bad, restoring).serve(messages)

    def refuse_later(failure: tuple[object, ...], message: tuple[object, ...]) -> None:
        if message[0] == "write":  # write nothing more; say so
            connection.send(("dropped", message[1]))

    worker_main(connection, options, parent=parent, repairs=repairs, name="import", body=body,
                refuse_later=refuse_later)  # fmt: skip


class _ChunkWriter:
    """Parses chunks as they come and writes those the coordinator releases."""

    def __init__(self, connection: Connection, engine: Engine, skip_bad: bool, restoring: bool) -> None:
        self._connection, self._engine, self._skip_bad = connection, engine, skip_bad
        self._restoring = restoring
        self._write_sets = engine.books().restore if restoring else engine.record_batch
        self._parsed: dict[int, ParsedChunk] = {}
        self._failed = False

    async def serve(self, inbox: Inbox) -> None:
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
