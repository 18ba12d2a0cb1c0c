"""One worker process of ``ingest --workers N``: parses the batches it is handed and writes the
sets of them it is told to, through its own engine, one thing at a time, writes first.

Why: parsing and writing are an ingester's CPU cost and one Python process runs them on one core
(one GIL); the coordinator (pool.py) keeps the Kafka client, the order of writes, dead-letters
and commits, so every guarantee of one process holds.
"""

from __future__ import annotations

import signal
import traceback
from collections import deque
from multiprocessing.connection import Connection

from ..domain.errors import LedgerError
from ..domain.model import EntrySet
from ..engine import Engine
from ..ledger import LedgerOptions
from ..loader.processes import Inbox, refusal_kind, worker_main
from .sets import Item, parse_items, written_of

# The pipe's messages. To a worker: ("parse", key, [Item, ...]), ("write", key, [index, ...])
# (indexes into that batch; an empty list lets it go), ("stop",). From it: ("ready",) (connected;
# repaired if asked), ("parsed", key, [Parsed, ...]), ("written", key, [Written, ...]), and
# ("failed", kind, text, key) or ("crashed", text, key) (key None: connecting or repairing
# failed, and every later request is answered with that failure).


def run_worker(connection: Connection, options: LedgerOptions, repairs: bool, parent: int) -> None:
    """A worker process's body: connects, repairs if ``repairs``, then parses and writes batches
    (SIGINT and SIGTERM are the coordinator's: it finishes the batches in hand)."""

    async def body(engine: Engine, messages: Inbox) -> None:
        await _Batches(connection, engine).serve(messages)

    def refuse_later(failure: tuple[object, ...], message: tuple[object, ...]) -> None:
        connection.send((*failure, message[1]))

    worker_main(connection, options, parent=parent, repairs=repairs, name="ingest", body=body,
                refuse_later=refuse_later, ignored=(signal.SIGINT, signal.SIGTERM))  # fmt: skip


class _Batches:
    """Parses batches and writes the sets picked of them, one at a time, a write before a parse.

    Why one at a time: parsing beside a write in one process starves the write of the GIL (SQLite
    writes in a thread that takes it back after each statement); why writes first: the next batch
    waits for this one to be written, and a worker is handed the batch after next before that.
    """

    def __init__(self, connection: Connection, engine: Engine) -> None:
        self._connection, self._engine = connection, engine
        self._parsed: dict[int, list[EntrySet | None]] = {}

    async def serve(self, messages: Inbox) -> None:
        """Until ``stop`` (after what it was handed before it)."""
        waiting: deque[tuple[object, ...]] = deque()
        while True:
            while not messages.empty() or not waiting:
                waiting.append(await messages.get())
            message = next((m for m in waiting if m[0] == "write"), waiting[0])
            waiting.remove(message)
            kind, *rest = message
            if kind == "stop":
                return
            key, payload = rest
            assert isinstance(key, int) and isinstance(payload, list)
            await (self._parse(key, payload) if kind == "parse" else self._write(key, payload))

    async def _parse(self, key: int, items: list[Item]) -> None:
        try:
            sets, parsed = await parse_items(items, self._engine.currencies)
        except Exception:
            self._connection.send(("crashed", traceback.format_exc(), key))
        else:
            self._parsed[key] = sets
            self._connection.send(("parsed", key, parsed))

    async def _write(self, key: int, indexes: list[int]) -> None:
        held = self._parsed.pop(key)
        try:
            chosen = [entry_set for i in indexes if (entry_set := held[i]) is not None]
            assert len(chosen) == len(indexes), "only sets that parsed are written"
            outcomes = await self._engine.record_batch(chosen, complete_duplicates=True) if chosen else []
        except LedgerError as error:
            self._connection.send(("failed", refusal_kind(error), str(error), key))
        except Exception:
            self._connection.send(("crashed", traceback.format_exc(), key))
        else:
            self._connection.send(("written", key, written_of(outcomes)))
