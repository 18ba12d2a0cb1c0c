"""The change feed over any store: pages for pollers, a follower for relays and the console, and
named cursors kept in the ledger, so a publisher resumes where it stopped on any machine.

A follower reads fresh events too (sooner than a store's settled cursor) and drops the ones it
already gave, so within one run nothing repeats; a restart resumes from the saved cursor and may
repeat events near it, never skip one (docs/events.md). ``publishers`` says how far behind each
saved cursor is, for a status line.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from uuid import UUID

from ..domain.changes import MAX_CHANGES_PAGE, Change, ChangePage
from ..domain.errors import LedgerError, ValidationError
from ..store.base import Store

CURSOR_SETTING = "change_cursor:"
#: Event ids a follower remembers to drop repeats (more than a store's settle time of events).
REMEMBERED = 1 << 18
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
#: Where a feed starts when no cursor is given: every committed set.
BEGINNING = "beginning"
NOW = "now"


def check_name(name: str) -> str:
    """A publisher's name: the key its cursor is kept under."""
    if not _NAME.match(name):
        raise ValidationError.single("name", "use 1-64 letters, digits, '.', '_' or '-', starting with one")
    return name


@dataclass(frozen=True, slots=True)
class FollowOptions:
    """How a follower reads: seconds between reads when idle, events per read, and whether it
    stops once it has caught up (for scripts and tests)."""

    poll: float = 0.1
    limit: int = 1000
    stop_when_idle: bool = False


@dataclass(frozen=True, slots=True)
class PublisherLag:
    """How far a publisher's saved cursor is behind the ledger's settled events: ``events`` it has
    not passed where the store counts them exactly (embedded), else ``seconds`` since the oldest of
    them was committed (Cassandra, whose cursors are positions in time); 0 when it passed them all."""

    cursor: str
    events: int | None
    seconds: float | None

    @property
    def behind(self) -> bool:
        """Whether some committed event has not been passed yet."""
        return bool(self.events) or bool(self.seconds)


class ChangeFeed:
    """Pages and followers of one ledger's change feed."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def start(self, since: str | None) -> str | None:
        """The cursor a read ``--since`` starts at: beginning (None), now, or a cursor."""
        if since is None or since == BEGINNING:
            return None
        if since == NOW:
            return await self._store.change_cursor_now()
        return since

    async def page(self, cursor: str | None, limit: int = MAX_CHANGES_PAGE) -> ChangePage:
        """One page of settled events after ``cursor`` (exact and repeat-free: for pollers)."""
        if not 1 <= limit <= MAX_CHANGES_PAGE:
            raise ValidationError.single("limit", f"must be 1 to {MAX_CHANGES_PAGE}")
        return await self._store.read_changes(cursor, limit)

    async def follow(self, cursor: str | None, options: FollowOptions) -> AsyncGenerator[ChangePage, None]:
        """Pages of events as they are committed, each event once per run; a page's cursor is the
        resume point once its events are handled. An empty page means caught up (it stops there
        with ``stop_when_idle``)."""
        given: OrderedDict[UUID, None] = OrderedDict()
        fresh: frozenset[str] = frozenset()
        while True:
            page = await self._store.read_changes(cursor, options.limit, fresh=fresh)
            fresh = page.fresh
            new: list[Change] = []
            for change in page.changes:
                key = change.event_id
                if key in given:
                    continue
                given[key] = None
                if len(given) > REMEMBERED:
                    given.popitem(last=False)
                new.append(change)
            cursor = page.cursor
            yield ChangePage(new, page.cursor, page.more, page.lag)
            if not new and not page.more:
                if options.stop_when_idle:
                    return
                await asyncio.sleep(options.poll)
            elif not new:
                await asyncio.sleep(options.poll)  # waiting for a write: do not spin

    async def saved(self, name: str) -> str | None:
        """The cursor kept under ``name`` (None: it never published)."""
        value = (await self._store.read_settings()).get(CURSOR_SETTING + check_name(name))
        return value or None

    async def save(self, name: str, previous: str | None, cursor: str) -> None:
        """Move the cursor kept under ``name`` from ``previous`` to ``cursor`` (compare and set: two
        publishers of one name would skip each other's events, so the second one is stopped)."""
        key = CURSOR_SETTING + check_name(name)
        if previous is None:
            stored = await self._store.keep_setting(key, "")
            previous = ""
            if stored != "":
                raise LedgerError(f"another publisher named {name!r} moved its cursor; run one per name")
        if cursor == previous:
            return
        if await self._store.replace_setting(key, previous, cursor) != cursor:
            raise LedgerError(f"another publisher named {name!r} moved its cursor; run one per name")

    async def publishers(self) -> dict[str, PublisherLag]:
        """Each publisher's saved cursor (by name) and how far behind it is: one settings read, then
        one single-event read per publisher, cheap enough to repeat every few seconds. A publisher
        that has not saved a cursor yet, or whose cursor this ledger did not issue, is left out."""
        lags: dict[str, PublisherLag] = {}
        for key, cursor in sorted((await self._store.read_settings()).items()):
            if not key.startswith(CURSOR_SETTING) or not cursor:
                continue
            try:
                page = await self._store.read_changes(cursor, 1)
            except ValidationError:
                continue
            pending = bool(page.changes)
            lag = page.lag
            events = None if lag.events is None else len(page.changes) + lag.events
            # After one step the cursor stands at the oldest pending event: its age is the lag.
            seconds = None if lag.seconds is None else (lag.seconds if pending else 0.0)
            lags[key.removeprefix(CURSOR_SETTING)] = PublisherLag(cursor, events, seconds)
        return lags
