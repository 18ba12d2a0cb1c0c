"""The relay: follow the change feed, hand each page to a sink, and only once the sink has it
durably (broker acks, a 2xx answer) move the cursor kept in the ledger.

So a crash or kill -9 of the publisher repeats events near its saved cursor and never skips one;
every event carries its id, and consumers drop repeats by it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..domain.changes import Change, FeedLag
from ..domain.errors import LedgerError
from ..engine import Engine
from ..engine.changes import FollowOptions


class PublishStopped(LedgerError):
    """A sink gave up retrying because the publisher was asked to stop."""


#: Seconds between saves of the cursor while events flow (each save is one compare-and-set).
SAVE_EVERY = 0.5


class Sink(Protocol):
    """Where events go. ``send`` returns once every event it was given is durably delivered
    (retrying what fails, until ``stop`` is called); it is given pages in commit order."""

    def describe(self) -> str:
        """The target, for progress lines (never a secret)."""
        ...

    async def start(self) -> None: ...

    async def send(self, changes: list[Change]) -> None: ...

    def stop(self) -> None:
        """Ask a ``send`` that keeps retrying to give up (it then raises PublishStopped)."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class RelayProgress:
    """What a relay has done: events delivered, the cursor saved, how far behind the ledger it is."""

    events: int = 0
    cursor: str | None = None
    lag: FeedLag = field(default_factory=FeedLag)
    started: float = field(default_factory=time.monotonic)
    #: Monotonic time of the latest page delivered (None before any).
    last_delivery: float | None = None

    @property
    def rate(self) -> float:
        return self.events / max(time.monotonic() - self.started, 1e-9)


class Relay:
    """One publisher: a named cursor in the ledger, a sink, and the loop between them."""

    def __init__(
        self,
        engine: Engine,
        sink: Sink,
        name: str,
        *,
        since: str | None = None,
        on_progress: Callable[[RelayProgress], None] = lambda progress: None,
        poll: float = 0.1,
    ) -> None:
        self._feed = engine.changes()
        self._sink = sink
        self._name = name
        self._since = since
        self._on_progress = on_progress
        self._poll = poll
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the page in hand, save the cursor and return (SIGTERM, Ctrl-C)."""
        self._stopping.set()
        self._sink.stop()

    async def run(self, *, stop_when_idle: bool = False) -> RelayProgress:
        progress = RelayProgress()
        saved = await self._feed.saved(self._name)
        cursor = saved if saved is not None else await self._feed.start(self._since)
        progress.cursor = saved
        await self._sink.start()
        saved_at = 0.0
        try:
            options = FollowOptions(poll=self._poll, stop_when_idle=stop_when_idle)
            async for page in self._feed.follow(cursor, options):
                if page.changes:
                    try:
                        await self._sink.send(page.changes)
                    except PublishStopped:
                        break  # not delivered: its cursor is not saved
                    progress.events += len(page.changes)
                    progress.last_delivery = time.monotonic()
                progress.lag = page.lag
                idle = not page.changes and not page.more
                due = idle or self._stopping.is_set() or time.monotonic() - saved_at >= SAVE_EVERY
                if page.cursor != progress.cursor and due:
                    await self._feed.save(self._name, progress.cursor, page.cursor)
                    progress.cursor, saved_at = page.cursor, time.monotonic()
                self._on_progress(progress)
                if self._stopping.is_set():
                    break
            if progress.cursor is None and cursor is not None:  # nothing came: keep where it began
                await self._feed.save(self._name, None, cursor)
                progress.cursor = cursor
        finally:
            await self._sink.close()
        return progress
