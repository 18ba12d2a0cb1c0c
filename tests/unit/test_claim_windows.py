"""Claim windows listed in 31-day parts: every window a writer noted is listed from any point
before it, also when writers' clocks disagree across a part's edge."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from ledger_tui.domain.claims import window_of
from ledger_tui.store.cassandra.windows import WINDOWS_PER_PART, WindowIndex, part_of


class _Ledger:
    """What the index needs of a ledger: settings (kept if absent) and claim_windows rows."""

    def __init__(self) -> None:
        self.settings: dict[str, str] = {}
        self.windows: dict[int, set[int]] = defaultdict(set)

    async def statement(self, name: str) -> str:
        return name

    async def execute(self, statement: str, values: tuple[Any, ...]) -> Any:
        if statement == "log_window":
            part, window = values
            self.windows[part].add(window)
            return SimpleNamespace(rows=[])
        part, first = values
        return SimpleNamespace(rows=[(w,) for w in sorted(self.windows[part]) if w >= first])

    async def read_settings(self) -> dict[str, str]:
        return dict(self.settings)

    async def keep_setting(self, name: str, value: str) -> str:
        return self.settings.setdefault(name, value)

    def index(self) -> WindowIndex:
        return WindowIndex(self.execute, self.statement, self.read_settings, self.keep_setting)


async def test_a_window_written_just_before_a_part_edge_is_listed() -> None:
    """A new ledger's first two writers, at a part's edge, with clocks a few seconds apart: the
    one ahead notes the first window of part P+1 (claim_windows_from = P+1), the other then the
    last window of part P. Repair and the change feed must list both."""
    ledger = _Ledger()
    current = part_of(window_of(datetime.now(UTC)))
    edge = current * WINDOWS_PER_PART  # the first window of the current part
    ahead, behind = ledger.index(), ledger.index()
    await ahead.note(edge)
    await behind.note(edge - 1)
    listed = await ledger.index().since(edge - 10)
    assert listed == [edge - 1, edge]


async def test_windows_are_listed_from_any_first_window_on() -> None:
    """Windows over three parts, noted in random order by writers starting at different times:
    a listing from any window is exactly the noted windows from it on."""
    ledger = _Ledger()
    current = part_of(window_of(datetime.now(UTC)))
    edge = current * WINDOWS_PER_PART
    noted = [edge - WINDOWS_PER_PART - 3, edge - 2, edge - 1, edge, edge + 5]
    order = random.Random(3).sample(noted, len(noted))
    for window in order:
        await ledger.index().note(window)
    for first in [0, *range(noted[0] - 1, edge + 7)]:
        assert await ledger.index().since(first) == [w for w in noted if w >= first], first
