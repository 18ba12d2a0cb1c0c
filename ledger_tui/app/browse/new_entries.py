"""Entries committed elsewhere for the account browse shows: read the newest page again, or count them.

Re-reading the newest page shows new entries where they belong, with running balances that stay
right; an older page is never moved away from: an 'N new' marker counts what it cannot show, until
the newest page shows them or the entries are read again from the first page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from ...domain.changes import Change
from ...domain.model import Address, Entry
from ...domain.timeutil import TimeRange
from ..ledger_screen import entries_of
from ..widgets.formatting import plural
from .entry_pager import EntryPager

#: New entries remembered by id for the marker (more are counted only).
MAX_PENDING = 10_000


class Step(Enum):
    """What new entries of the account on show call for."""

    NONE = "none"  # nothing on show changes
    FIRST = "first"  # read again from the first page (the only page, or none read yet)
    PAGE = "page"  # read the newest page on show again (from the first if its chain missed them)
    COUNT = "count"  # an older page: count them in the marker


def arrivals(
    changes: Sequence[Change],
    address: Address,
    time_range: TimeRange,
    as_of: datetime | None,
    *,
    follows_months: bool,
) -> list[Entry]:
    """The new entries of ``address`` that can change what is shown: none as of a past time; those
    dated before the range's end (any, when the range follows the account's months and may grow)."""
    if as_of is not None:
        return []
    end = None if follows_months else time_range.end
    return [
        entry
        for entry in entries_of(changes)
        if entry.address == address and (end is None or entry.effective_at < end)
    ]


def next_step(pager: EntryPager | None, arrived: Sequence[Entry]) -> Step:
    """What ``arrived`` calls for, given the pages read so far."""
    if not arrived:
        return Step.NONE
    if pager is None or (pager.index == 0 and not pager.has_next):
        return Step.FIRST
    return Step.COUNT if pager.has_next else Step.PAGE


@dataclass(slots=True)
class LiveEntries:
    """What sets committed elsewhere did to the entries on show: a re-read wanted, and the new
    entries not known to be shown yet (by entry id, with their effective times) for the marker."""

    pending: dict[str, datetime] = field(default_factory=dict)
    #: New entries beyond MAX_PENDING, counted but not tracked.
    untracked: int = 0
    #: The range is the account's months (opening it reset the range), so it may grow.
    follows_months: bool = False
    #: A re-read they asked for, not done yet.
    wanted: Step | None = None

    def take_in(
        self,
        changes: Sequence[Change],
        shown: tuple[Address, TimeRange, datetime | None],
        pager: EntryPager | None,
    ) -> bool:
        """Note the new entries of the ``shown`` account, range and as-of; True when a re-read is wanted."""
        address, time_range, as_of = shown
        arrived = arrivals(changes, address, time_range, as_of, follows_months=self.follows_months)
        for entry in arrived:
            if len(self.pending) < MAX_PENDING:
                self.pending[entry.entry_id] = entry.effective_at
            else:
                self.untracked += 1
        step = next_step(pager, arrived)
        if step in (Step.FIRST, Step.PAGE) and self.wanted is not Step.FIRST:
            self.wanted = step
        return self.wanted is not None

    def take_wanted(self) -> Step | None:
        """The re-read wanted, once."""
        step, self.wanted = self.wanted, None
        return step

    def forget(self) -> None:
        """Another account, range or filter: nothing is new."""
        self.pending.clear()
        self.untracked, self.wanted = 0, None

    def page_read(self, rows: Sequence[Entry], has_next: bool, time_range: TimeRange, *, fresh: bool) -> bool:
        """A page arrived; ``fresh``: its chain of pages was read from the first page after the
        entries pending arrived, so those up to it are in its rows or in its carried balance.
        True when it is the newest page, read from an older chain that missed some: page tokens
        keep the months and the end they saw, so only reading again from the first page shows them."""
        for entry in rows:
            self.pending.pop(entry.entry_id, None)
        end = time_range.end
        last = rows[-1].effective_at if rows else None
        if fresh:  # kept: those out of the range, and those on later pages
            self.pending = {
                key: at
                for key, at in self.pending.items()
                if (end is not None and at >= end) or (has_next and last is not None and at > last)
            }
            self.untracked = self.untracked if has_next else 0
            return False
        return not has_next and (
            self.untracked > 0 or any(end is None or at < end for at in self.pending.values())
        )

    @property
    def title(self) -> str:
        """The marker (empty: nothing new)."""
        count = len(self.pending) + self.untracked
        if not count:
            return ""
        return f"{plural(count, 'new entry', 'new entries')} · n to the newest page · r re-reads"
