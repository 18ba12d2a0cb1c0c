"""The console following the ledger live: what its change-feed follower remembers, and publishers' lag.

The app runs the workers (a follower from "now", a check of the publishers every few seconds);
this keeps their state (where to resume, repeats to drop, the retry delay, which publisher
stalled) and words it for the header, so the shell only routes.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from ..domain.changes import Change
from ..engine.changes import NOW, ChangeFeed, FollowOptions, PublisherLag
from .failures import with_timeout

#: The follower's worker group (it runs until the console closes or the store fails).
FOLLOW_GROUP = "changes"
#: The publishers check's worker group.
PUBLISHERS_GROUP = "publishers"
#: Ids remembered to drop repeats (a restarted follower may repeat events near its cursor).
REMEMBERED = 1 << 14


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """How often the console reads the feed when idle and checks publishers, when a publisher
    behind that has not moved counts as stalled, and the retry delays of a failed follower."""

    poll: float = 0.5
    publishers_every: float = 5.0
    stall_after: float = 30.0
    retry_first: float = 1.0
    retry_most: float = 30.0
    page: int = 1000


#: How the console follows the ledger unless told otherwise.
LIVE = LiveOptions()


class _Remembered:
    """The last REMEMBERED ids seen."""

    def __init__(self) -> None:
        self._ids: OrderedDict[uuid.UUID, None] = OrderedDict()

    def add(self, key: uuid.UUID) -> bool:
        """Remember ``key``; False when it was already remembered."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > REMEMBERED:
            self._ids.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._ids


class LiveFeed:
    """Where the console's follower resumes, what it already gave the screens, and its failures."""

    def __init__(self, options: LiveOptions) -> None:
        self.options = options
        #: Where the next follower resumes (None: not started: it starts at "now").
        self.cursor: str | None = None
        self._given = _Remembered()
        self._own = _Remembered()
        self._failures = 0

    async def follow(self, feed: ChangeFeed) -> AsyncIterator[tuple[list[Change], bool]]:
        """Each page's new changes (see ``take``) as committed, from where the last follower stopped
        ("now" the first time), and whether the page ended a pause. Every read has a time limit."""
        if self.cursor is None:
            self.cursor = await with_timeout(feed.start(NOW))
        options = FollowOptions(poll=self.options.poll, limit=self.options.page)
        async with aclosing(feed.follow(self.cursor, options)) as pages:
            while True:
                page = await with_timeout(anext(pages))
                self.cursor = page.cursor
                yield self.take(page.changes), self.recovered()

    def posted(self, transaction_id: uuid.UUID) -> None:
        """This console wrote ``transaction_id`` (and refreshed for it): the feed need not report it."""
        self._own.add(transaction_id)

    def take(self, changes: Iterable[Change]) -> list[Change]:
        """The sets committed (not hold events: the console shows posted entries) that were not
        given before and not written by this console."""
        return [
            change
            for change in changes
            if change.hold is None
            and self._given.add(change.event_id)
            and change.transaction.transaction_id not in self._own
        ]

    @property
    def paused(self) -> bool:
        """Whether the follower failed and waits to be tried again."""
        return self._failures > 0

    def failed(self) -> float:
        """Count a failure; the seconds to wait before trying again (doubling, up to a bound)."""
        self._failures += 1
        return min(self.options.retry_most, self.options.retry_first * 2.0 ** (self._failures - 1))

    def recovered(self) -> bool:
        """A read worked: True when it had been failing (the pause is over)."""
        was, self._failures = self._failures > 0, 0
        return was


@dataclass(slots=True)
class _Watched:
    lag: PublisherLag
    #: Monotonic seconds since when it has been behind at this same cursor (None: not behind).
    since: float | None
    stalled: bool = False


def paused_notice(reason: str, delay: float) -> str:
    """The notice of a failed follower, tried again after ``delay`` s (and longer if it fails again)."""
    return (
        f"{reason}\nSets committed elsewhere do not show until it works again (tried in {delay:.0f} s, "
        "then less often; r re-reads a screen)."
    )


def lag_text(lag: PublisherLag) -> str:
    """``1,204 behind`` (events) or ``42 s behind`` (time)."""
    if lag.events is not None:
        return f"{lag.events:,} behind"
    return f"{lag.seconds or 0:.0f} s behind"


class PublisherWatch:
    """Which publishers are behind, and which stalled: behind at one cursor for ``stall_after`` s."""

    def __init__(self, stall_after: float) -> None:
        self._stall_after = stall_after
        self._watched: dict[str, _Watched] = {}

    def update(self, lags: Mapping[str, PublisherLag], now: float) -> list[str]:
        """Take in a check made at monotonic ``now``; returns a notice per publisher that just stalled."""
        stalled: list[str] = []
        seen: dict[str, _Watched] = {}
        for name, lag in lags.items():
            before = self._watched.get(name)
            if not lag.behind:
                seen[name] = _Watched(lag, None)
                continue
            if before is None or before.since is None or before.lag.cursor != lag.cursor:
                seen[name] = _Watched(lag, now)  # fell behind, or moved: the clock starts again
                continue
            watched = _Watched(lag, before.since, before.stalled)
            if not watched.stalled and now - before.since > self._stall_after:
                watched.stalled = True
                wait = f"{self._stall_after:.0f} s"
                stalled.append(f"{name} is {lag_text(lag)} and has not moved for {wait}: is it running?")
            seen[name] = watched
        self._watched = seen
        return stalled

    def status(self) -> Sequence[str]:
        """One short part per publisher behind, for the header: ``publisher kafka 12 behind``."""
        parts: list[str] = []
        for name, watched in sorted(self._watched.items()):
            if watched.lag.behind:
                stalled = ", stalled" if watched.stalled else ""
                parts.append(f"publisher {name} {lag_text(watched.lag)}{stalled}")
        return parts
