"""``import --workers N``: the coordinator that reads the file and hands chunks to worker processes.

Why: parsing and encoding are the import's CPU cost and one Python process runs them on one
core, so chunks of lines go to N worker processes (import_worker.py), each with its own
connection, while the coordinator keeps the one-process guarantees (listed at ``ImportPool``).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TextIO

from ..domain.errors import NotConfirmed
from ..ledger import LedgerOptions
from ..loader import LoadStats
from ..loader.processes import WorkerCrashed, refusal
from .import_lines import (
    NOT_UTF8,
    SAMPLE_LINES,
    Gathered,
    LineTooLong,
    NotUtf8Line,
    UnreadableInput,
    chunk_of,
    chunk_size,
    file_bytes,
    numbered_lines,
)
from .import_worker import ChunkTally, run_worker

#: How long the coordinator waits for a message before it looks at its own state again (Ctrl-C).
WAIT_S = 0.25
#: Chunks a worker holds at once (checked, waiting or being written): one parses while one writes.
HELD_PER_WORKER = 2


@dataclass(slots=True)
class PoolResult:
    """What a parallel import did, in the terms the one-process import reports."""

    stats: LoadStats
    problems: Gathered = field(default_factory=Gathered)
    conflicts: Gathered = field(default_factory=Gathered)
    #: Stopped at a bad line (abort) or at unreadable text; ``written``: sets recorded before it.
    aborted: bool = False
    written: int = 0
    lines: int = 0


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    held: set[int] = field(default_factory=set)
    exited: bool = False


@dataclass(slots=True)
class _Chunk:
    owner: _Worker
    checked: bool = False
    writable: bool = False
    released: bool = False
    written: bool = False
    #: Released but not written: its worker failed before or while writing it.
    dropped: bool = False


#: Lines not UTF-8 kept in full by the coordinator (it reads the whole file: a binary one has many).
KEPT_UNREADABLE = 1000


# The one-process guarantees the coordinator keeps:
# - abort (the default): a chunk is written only once it and every earlier chunk were checked
#   clean, so a bad line stops the import before anything of its chunk or a later one is written;
# - repair runs (in the first worker) before any chunk is written;
# - a started chunk finishes whole; a refusal or a crash in any worker stops the import, and it
#   is reported as the one-process import reports it;
# - workers die with the coordinator (kill -9 of the import stops every part of it).
class ImportPool:
    """One parallel import: ``run()`` reads ``source`` to the end (or to a stop) and reports."""

    def __init__(
        self,
        source: TextIO,
        options: LedgerOptions,
        *,
        workers: int,
        chunk: int | None,
        skip_bad: bool,
        on_progress: Callable[[LoadStats], None] | None = None,
        restoring: bool = False,
    ) -> None:
        self._source, self._options = source, options
        #: A restore: the source is a dump whose header was read; its last line ends the reading.
        self._restoring = restoring
        self.footer: tuple[int, str] | None = None
        #: Sets per chunk (None: chosen from the file's size once its first lines are read).
        self._size, self._skip_bad, self.on_progress = chunk, skip_bad, on_progress
        self._wanted = workers
        self._workers: list[_Worker] = []
        self._chunks: dict[int, _Chunk] = {}
        self._ahead: deque[tuple[int, list[tuple[int, str]]]] = deque()
        self._reader = self._read()
        self._next_release = 0
        self._repaired = False
        self._halted = False
        self._interrupted = False
        #: A stop in the input: a line not UTF-8 (a bad line), or one too long or a failed read
        #: (raised at the end).
        self._stop_reading: LineTooLong | NotUtf8Line | UnreadableInput | None = None
        #: The chunk a line not UTF-8 ended (without --on-error skip): checked, so that a bad line
        #: before it is the one reported, and never written.
        self._cut_short: int | None = None
        self._failure: BaseException | None = None
        self._bad_at: int | None = None
        self._bad_problems: list[tuple[int, str]] = []
        self._started = time.perf_counter()
        self.result = PoolResult(LoadStats())

    def start(self) -> None:
        """Fork the workers: before any thread runs here (a progress display starts one), and
        no more of them than the file has chunks (a small file needs one)."""
        self._read_ahead(self._wanted)
        for index in range(max(1, min(self._wanted, len(self._ahead)))):
            self._start(first=index == 0)

    def run(self) -> PoolResult:
        """Import everything; raises what a worker was refused with (as the one process would).

        Ctrl-C stops handing out and releasing chunks; the chunks being written finish whole,
        then KeyboardInterrupt is raised (a second Ctrl-C raises it at once).
        """
        if not self._workers:
            self.start()
        try:
            with self._first_interrupt_halts():
                self._dispatch()
                while not self._done():
                    self._step()
        finally:
            self._stop_all()
        if self._interrupted:
            raise KeyboardInterrupt
        self.result.stats.seconds = time.perf_counter() - self._started
        if self._failure is not None:
            raise self._failure
        if isinstance(self._stop_reading, NotUtf8Line):
            if not self.result.aborted:  # it came after whole chunks: it is the first bad line
                self.result.problems.add([(self._stop_reading.line, NOT_UTF8)], 0)
                self.result.aborted = True
        elif self._stop_reading is not None:
            raise self._stop_reading
        return self.result

    @contextlib.contextmanager
    def _first_interrupt_halts(self) -> Iterator[None]:
        """A signal handler, not an exception, so that a message is never cut half-read."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def interrupted(signum: int, frame: object) -> None:
            self._interrupted = True
            self._halt()
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: at once

        previous = signal.signal(signal.SIGINT, interrupted)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # Reading and handing out chunks.

    def _read(self) -> Iterator[tuple[int, list[tuple[int, str]]]]:
        lines = self._lines()
        if self._size is None:
            sample = list(itertools.islice(lines, SAMPLE_LINES))
            self._size = chunk_size(file_bytes(self._source), sample, self._wanted, HELD_PER_WORKER)
            lines = itertools.chain(sample, lines)
        for index in itertools.count():
            chunk = chunk_of(lines, self._size)
            self.result.lines += len(chunk)
            if chunk and isinstance(self._stop_reading, NotUtf8Line):
                self._cut_short = index
                yield index, chunk
                return
            if not chunk or self._stop_reading is not None:
                return  # the lines of a chunk cut short by unreadable input are never written
            yield index, chunk

    def _lines(self) -> Iterator[tuple[int, str]]:
        try:
            skipping = self._skip_bad and not self._restoring
            on_not_utf8 = self._not_utf8 if skipping else None
            for number, text in numbered_lines(self._source, 1 if self._restoring else 0, on_not_utf8):
                if self._restoring and text.startswith('{"end":'):
                    self.footer = (number, text)
                    continue
                if self.footer is not None:  # after a dump's last line: a bad line (as workers say)
                    self._stop_reading = LineTooLong(f"line {number}: after the dump's last line")
                    return
                yield number, text
        except (LineTooLong, NotUtf8Line, UnreadableInput) as error:
            self._stop_reading = error

    def _not_utf8(self, error: NotUtf8Line) -> None:
        """A line that is not UTF-8, under --on-error skip: a bad line, and reading goes on."""
        self.result.lines += 1
        kept = len(self.result.problems.kept) < KEPT_UNREADABLE  # the rest counted: a binary file
        self.result.problems.add([(error.line, NOT_UTF8)] if kept else [], 0 if kept else 1)

    def _read_ahead(self, count: int) -> None:
        while len(self._ahead) < count and (item := next(self._reader, None)) is not None:
            self._ahead.append(item)

    def _dispatch(self) -> None:
        """Give each live worker chunks until it holds ``HELD_PER_WORKER``."""
        for worker in self._workers:
            while not self._halted and not worker.exited and len(worker.held) < HELD_PER_WORKER:
                self._read_ahead(1)
                if not self._ahead:
                    return
                index, lines = self._ahead.popleft()
                self._chunks[index] = _Chunk(worker)
                worker.held.add(index)
                self._send(worker, ("parse", index, lines))

    def _start(self, first: bool) -> None:
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=run_worker,
            args=(theirs, self._options, self._skip_bad, first, os.getpid(), self._restoring),
            name=f"ledger-tui import worker {len(self._workers) + 1}",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._workers.append(_Worker(process, ours))

    # Messages from the workers.

    def _step(self) -> None:
        live = [w for w in self._workers if not w.exited]
        waitables: list[object] = [w.connection for w in live] + [w.process.sentinel for w in live]
        for ready in wait(waitables, timeout=WAIT_S):  # type: ignore[arg-type]
            worker = next(w for w in live if ready in (w.connection, w.process.sentinel))
            self._receive(worker)
        self._release()
        self._dispatch()

    def _send(self, worker: _Worker, message: tuple[object, ...]) -> None:
        try:
            worker.connection.send(message)
        except OSError:  # it is gone
            self._fail(NotConfirmed("an import worker stopped; rerun the import"))

    def _receive(self, worker: _Worker) -> None:
        try:
            while not worker.exited and worker.connection.poll():
                self._handle(worker, worker.connection.recv())
        except (EOFError, OSError):
            pass
        if not worker.exited and not worker.process.is_alive():
            worker.exited = True
            # A worker exits only when told to stop, after the loop: this one was killed (e.g. by
            # the kernel for memory), maybe while writing.
            code = worker.process.exitcode
            self._fail(NotConfirmed(f"an import worker stopped (exit code {code}); rerun the import"))

    def _handle(self, worker: _Worker, message: tuple[object, ...]) -> None:
        kind = message[0]
        if kind == "ready" and worker is self._workers[0]:
            self._repaired = True
        elif kind == "checked":
            _, index, problems, more, valid = message
            assert isinstance(index, int) and isinstance(problems, list) and isinstance(more, int)
            assert isinstance(valid, int)
            self._checked(worker, index, problems, more, valid)
        elif kind == "written":
            _, index, tally = message
            assert isinstance(index, int) and isinstance(tally, ChunkTally)
            self._written(worker, index, tally)
        elif kind == "dropped":
            self._drop(worker, message[1])
        elif kind == "failed":
            _, name, text, index = message
            self._fail(refusal(name, text))
            self._drop(worker, index)
        elif kind == "crashed":
            self._fail(WorkerCrashed(f"an import worker failed:\n{message[1]}"))
            self._drop(worker, message[2])

    def _drop(self, worker: _Worker, index: object) -> None:
        if isinstance(index, int):
            self._chunks[index].dropped = True
            worker.held.discard(index)

    def _checked(
        self, worker: _Worker, index: int, problems: list[tuple[int, str]], more: int, valid: int
    ) -> None:
        chunk = self._chunks[index]
        chunk.checked = True
        if index == self._cut_short and not problems:  # its own lines are good: the next one is bad
            assert isinstance(self._stop_reading, NotUtf8Line)
            problems, valid = [(self._stop_reading.line, NOT_UTF8)], 0
        if self._skip_bad:
            self.result.problems.add(problems, more)
            chunk.writable = valid > 0
        elif problems:
            if self._bad_at is None or index < self._bad_at:
                self._bad_at, self._bad_problems = index, problems
        else:
            chunk.writable = valid > 0
        if not chunk.writable:
            worker.held.discard(index)

    def _written(self, worker: _Worker, index: int, tally: ChunkTally) -> None:
        self._chunks[index].written = True
        worker.held.discard(index)
        stats = self.result.stats
        stats.merge(tally.stats)
        self.result.written += tally.stats.transactions + tally.stats.conflicts
        self.result.conflicts.add(tally.conflicting, tally.more_conflicting)
        if self.on_progress is not None:
            stats.seconds = time.perf_counter() - self._started
            self.on_progress(stats)

    def _release(self) -> None:
        """Tell workers which checked chunks to write (abort: in order, up to a bad chunk)."""
        if not self._repaired or self._halted:
            return
        if self._skip_bad:
            ready = [i for i, c in self._chunks.items() if c.writable and not c.released]
        else:
            ready = []
            while (chunk := self._chunks.get(self._next_release)) is not None and chunk.checked:
                if self._next_release == self._bad_at:
                    self._abort()
                    break
                if chunk.writable:
                    ready.append(self._next_release)
                self._next_release += 1
        for index in ready:
            chunk = self._chunks[index]
            chunk.released = True
            self._send(chunk.owner, ("write", index))

    def _abort(self) -> None:
        self.result.problems.add(self._bad_problems, 0)
        self.result.aborted = True
        self._halt()

    def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self._halt()

    def _halt(self) -> None:
        """Nothing more is handed out or released; what was released is still waited for."""
        self._halted = True

    def _done(self) -> bool:
        pending = [
            c for c in self._chunks.values() if c.released and not (c.written or c.dropped or c.owner.exited)
        ]
        if self._halted:
            return not pending
        input_left = bool(self._ahead) or (self._stop_reading is None and not self._reader_done())
        unfinished = [c for c in self._chunks.values() if not c.checked or (c.writable and not c.written)]
        return not input_left and not unfinished and not pending

    def _reader_done(self) -> bool:
        self._read_ahead(1)
        return not self._ahead

    def _stop_all(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.connection.send(("stop",))
        for worker in self._workers:
            worker.process.join(timeout=60)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
