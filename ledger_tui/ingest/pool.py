"""``ingest --workers N``: worker processes (worker.py) that each take whole batches in turn,
parse them, and write the sets the coordinator picks, through their own engines.

Why: one process shares one GIL between parsing and writing; with workers one writes a batch while
the next parses, and this process keeps the Kafka client, the order of writes, dead-letters and
commits (consumer.py), so a batch means what it means in one process (sets.py). A batch stays whole
in one worker: slices written by several at once were slower on both stores (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ..domain.errors import NotConfirmed
from ..ledger import LedgerOptions
from ..loader.processes import WorkerCrashed, refusal
from .sets import Item, Parsed, Parsing, Written
from .worker import run_worker

#: Seconds a worker told to stop may take to close its engine before it is killed.
STOP_PATIENCE = 30.0


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    ready: asyncio.Future[Any] | None = None
    pending: dict[object, asyncio.Future[Any]] = field(default_factory=dict)
    #: Why it can take no more work (it stopped, or failed to connect), once it can't.
    gone: BaseException | None = None


class WorkerPool:
    """Forked workers that parse batches in turn and write what they are told to of them."""

    def __init__(self, options: LedgerOptions, workers: int) -> None:
        self._options, self._wanted = options, workers
        self._workers: list[_Worker] = []
        self._keys = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def size(self) -> int:
        """How many worker processes it has."""
        return len(self._workers)

    def start(self) -> None:
        """Fork the workers: before any thread runs here and before the driver is loaded (a fork
        copies only the forking thread, so a lock another thread held stays held in the child)."""
        context = multiprocessing.get_context("fork")
        for number in range(self._wanted):
            ours, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=run_worker,
                args=(theirs, self._options, number == 0, os.getpid()),
                name=f"ledger-tui ingest worker {number + 1}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._workers.append(_Worker(process, ours))

    async def ready(self) -> None:
        """Return once every worker is connected (and the first has repaired); raise the first
        refusal otherwise (unreachable store: exit 3)."""
        self._attach()
        futures = [w.ready for w in self._workers if w.ready is not None]
        for result in await asyncio.gather(*futures, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

    def check(self) -> None:
        """Raise why a worker can take no more work (it died: the ingester stops, exit 3, even
        while no message comes)."""
        for worker in self._workers:
            if worker.gone is not None:
                raise worker.gone

    async def parse(self, items: Sequence[Item]) -> Parsing:
        """Parse a batch in the next worker in turn (which keeps its sets to write them)."""
        self._attach()
        key = next(self._keys)
        worker = self._workers[key % self.size]
        self._ask(worker, key, ("parse", key, list(items)))
        parsed: list[Parsed] = await self._answer(worker, key)
        return Parsing(parsed, (worker, key))

    async def write(self, parsing: Parsing, indexes: list[int]) -> list[Written]:
        """The worker that parsed the batch writes the sets at ``indexes`` (an empty list lets it
        forget the batch)."""
        await self.ready()
        worker, key = parsing.held
        self._ask(worker, key, ("write", key, indexes))
        written: list[Written] = await self._answer(worker, key)
        return written

    def close(self) -> None:
        """Stop the workers (each finishes what it is writing and closes its engine)."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.connection.send(("stop",))
        for worker in self._workers:
            worker.process.join(timeout=STOP_PATIENCE)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
            for future in [worker.ready, *worker.pending.values()]:
                if future is not None and future.done() and not future.cancelled():
                    future.exception()  # a failure nobody waited for is not worth a warning

    # The pipes.

    def _attach(self) -> None:
        """On first use in the event loop: a reader thread per worker hands its answers to the loop."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        for worker in self._workers:
            worker.ready = self._loop.create_future()
            threading.Thread(target=self._read, args=(worker,), name="ingest-answers", daemon=True).start()

    def _read(self, worker: _Worker) -> None:
        assert self._loop is not None
        while True:
            try:
                message = worker.connection.recv()
            except (EOFError, OSError):  # it is gone (or this end was closed)
                message = ("gone",)
            try:
                self._loop.call_soon_threadsafe(self._receive, worker, message)
            except RuntimeError:  # the loop is closed: nobody waits any more
                return
            if message[0] == "gone":
                return

    def _ask(self, worker: _Worker, key: int, message: tuple[object, ...]) -> None:
        assert self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        worker.pending[key] = future
        if worker.gone is not None:
            future.set_exception(worker.gone)
            return
        with contextlib.suppress(OSError):  # it is gone: its reader says so and fails what it was asked
            worker.connection.send(message)

    async def _answer(self, worker: _Worker, key: int) -> Any:
        try:
            return await worker.pending[key]
        finally:
            del worker.pending[key]

    def _receive(self, worker: _Worker, message: tuple[object, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            _settle(worker.ready, None)
        elif kind in ("parsed", "written"):
            _settle(worker.pending.get(message[1]), message[2])
        elif kind in ("failed", "crashed"):
            error: BaseException
            if kind == "failed":
                _, name, text, key = message
                error = refusal(name, text)
            else:
                _, text, key = message
                error = WorkerCrashed(f"an ingest worker failed:\n{text}")
            if key is None:
                worker.gone = error
                _settle(worker.ready, error)
            else:
                _settle(worker.pending.get(key), error)
        elif kind == "gone":
            worker.process.join(timeout=1)
            code = worker.process.exitcode
            error = NotConfirmed(f"an ingest worker stopped (exit code {code}); rerun the ingester")
            worker.gone = worker.gone or error
            for future in [worker.ready, *worker.pending.values()]:
                _settle(future, error)


def _settle(future: asyncio.Future[Any] | None, value: object) -> None:
    """Give a waiting future its answer (an exception is raised to whoever awaits it)."""
    if future is None or future.done():
        return
    if isinstance(value, BaseException):
        future.set_exception(value)
    else:
        future.set_result(value)
