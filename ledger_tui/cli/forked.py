"""Run one piece of ledger work in a forked child and bring back its result or its refusal.

Why: a command that forks worker processes must not have run the Cassandra driver first (a
fork copies only the forking thread, so a lock another driver thread held stays held in the
child); work it needs before forking (a restore's preparation, a server's schema) runs in a
child of its own, and its refusals reach the user as if it had run here.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from ..domain.errors import LedgerError
from ..loader.processes import WorkerCrashed, refusal, refusal_kind


def in_a_forked_child(work: Callable[[], Awaitable[Any]], name: str) -> Any:
    """``asyncio.run(work())`` in a forked child; its picklable result, or its ledger error
    raised here (anything else: WorkerCrashed with the child's traceback)."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe(duplex=False)

    def child() -> None:
        try:
            theirs.send(("ok", asyncio.run(work())))  # type: ignore[arg-type]
        except LedgerError as error:
            theirs.send(("failed", refusal_kind(error), str(error)))
        except Exception:
            theirs.send(("crashed", traceback.format_exc()))

    process = context.Process(target=child, name=f"ledger-tui {name}", daemon=True)
    process.start()
    theirs.close()
    try:
        message = ours.recv()
    except EOFError:
        message = ("crashed", f"the {name} process died")
    process.join()
    if message[0] == "failed":
        raise refusal(message[1], message[2])
    if message[0] == "crashed":
        raise WorkerCrashed(f"the {name} failed:\n{message[1]}")
    return message[1]
