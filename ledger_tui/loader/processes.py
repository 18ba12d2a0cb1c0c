"""How a loading process runs (``import``, ``ingest``, their workers): the collector's pace, when
forking is safe, how many workers by default, dying with the coordinator, and refusals crossing a
pipe.

Why one module: parallel imports and ingesters must fork, die and report refusals alike, and a
rule written twice drifts (the ingester may import this module, not the bulk loader or the CLI).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from ..domain.errors import AccessDenied, LedgerError, StoreBusy, StoreUnavailable, TlsFailure
from ..engine import Engine
from ..ledger import LedgerOptions, open_ledger

#: Workers by default: one per core, at most this many.
MAX_DEFAULT_WORKERS = 4
#: Workers asked for at most (each is a process with its own connection to the store).
MAX_WORKERS = 64
#: How a worker's refusal crosses to the coordinator: a name, and the class it is raised as
#: there (most specific first; NotConfirmed travels as StoreUnavailable with its own text).
ERROR_KINDS: tuple[tuple[str, type[LedgerError]], ...] = (
    ("busy", StoreBusy),
    ("unavailable", StoreUnavailable),
    ("access", AccessDenied),
    ("tls", TlsFailure),
    ("rejected", LedgerError),
)
#: Messages from the coordinator, as a worker reads them.
Inbox = asyncio.Queue[tuple[object, ...]]
#: What a worker does once connected: serve the coordinator's messages until ``stop``.
Body = Callable[[Engine, Inbox], Awaitable[None]]
#: How a worker that could not connect (or failed) answers a later message: (failure, message).
RefuseLater = Callable[[tuple[object, ...], tuple[object, ...]], None]
#: Collector thresholds during a load (the defaults are 700, 10, 10).
_LOAD_GC_THRESHOLDS = (100_000, 50, 100)
#: Linux's prctl option that sends a signal to a process when its parent dies.
_PR_SET_PDEATHSIG = 1


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while loading: a load allocates millions of
    objects that live until their chunk is written (acyclic: reference counting frees them),
    which the default thresholds re-scan over and over (docs/cassandra-write-path.md).

    Loads may overlap in one process (concurrent imports): the first to start saves the
    caller's thresholds and the last to finish gives them back, so none is lost or left raised."""
    with _LOADS.lock:
        if _LOADS.running == 0:
            _LOADS.saved = gc.get_threshold()
            gc.set_threshold(*(max(a, b) for a, b in zip(_LOADS.saved, _LOAD_GC_THRESHOLDS, strict=True)))
        _LOADS.running += 1
    try:
        yield
    finally:
        with _LOADS.lock:
            _LOADS.running -= 1
            if _LOADS.running == 0:
                gc.set_threshold(*_LOADS.saved)


@dataclass(slots=True)
class _RunningLoads:
    """Loads running in this process and the collector thresholds to give back after the last."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: int = 0
    saved: tuple[int, ...] = ()


_LOADS = _RunningLoads()


class WorkerCrashed(Exception):
    """A worker hit a bug; its traceback is the message (logged by the command-line guard)."""


def can_fork() -> bool:
    """Whether workers can be forked safely here: fork exists, no thread runs yet, and the driver
    is not loaded (its event loop is process-wide state a child must not inherit). True in the
    command-line process; a host that embeds the command (a test run) works in one process."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and "cassandra" not in sys.modules
    )


def default_workers() -> int:
    """Worker processes when --workers is not given: one per core, at most MAX_DEFAULT_WORKERS."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def refusal_kind(error: LedgerError) -> str:
    """The name a refusal crosses the pipe under."""
    return next(name for name, kind in ERROR_KINDS if isinstance(error, kind))


def refusal(kind: object, text: object) -> LedgerError:
    """A worker's refusal as the coordinator raises it (the class its name stands for)."""
    return dict(ERROR_KINDS).get(str(kind), LedgerError)(str(text))


def die_with_parent(parent: int) -> None:
    """Be killed with the coordinator (kill -9 of it stops every part of it, as with one process)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def inbox(connection: Connection, name: str) -> Inbox:
    """Messages from the coordinator, read by a thread so that writes in flight go on meanwhile
    (a closed pipe reads as ``("stop",)``)."""
    loop = asyncio.get_running_loop()
    queue: Inbox = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):  # the coordinator is gone
                message = ("stop",)
            loop.call_soon_threadsafe(queue.put_nowait, message)
            if message[0] == "stop":
                return

    threading.Thread(target=read, name=f"{name}-inbox", daemon=True).start()
    return queue


def worker_main(
    connection: Connection,
    options: LedgerOptions,
    *,
    parent: int,
    repairs: bool,
    name: str,
    body: Body,
    refuse_later: RefuseLater,
    ignored: tuple[signal.Signals, ...] = (signal.SIGINT,),
) -> None:
    """A worker process's life (forked: the options, credentials included, never cross a pipe): die
    with the coordinator, leave ``ignored`` signals to it, connect (``repairs``: and repair), say
    ``("ready",)``, run ``body``. A refusal or a bug is told as ``("failed", kind, text, None)`` or
    ``("crashed", traceback, None)``, and every later message is answered by ``refuse_later``."""
    die_with_parent(parent)
    for number in ignored:
        signal.signal(number, signal.SIG_IGN)
    with few_collections():
        asyncio.run(_life(connection, options, repairs, name, body, refuse_later))


async def _life(
    connection: Connection, options: LedgerOptions, repairs: bool, name: str, body: Body, later: RefuseLater
) -> None:
    messages = inbox(connection, name)
    try:
        async with open_ledger(options) as engine:
            if repairs:
                await engine.repair()
            connection.send(("ready",))
            await body(engine, messages)
            return
    except LedgerError as error:  # connecting, repairing or closing was refused
        failure: tuple[object, ...] = ("failed", refusal_kind(error), str(error))
    except Exception:  # a bug: the coordinator logs it
        failure = ("crashed", traceback.format_exc())
    connection.send((*failure, None))
    while (message := await messages.get())[0] != "stop":
        later(failure, message)
