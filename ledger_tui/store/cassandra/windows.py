"""Which 10-minute windows of the claim log have rows, listed in 31-day parts.

Why: one partition listing every window passed 100,000 rows after ~23 months; a part holds at most
4,464. Older ledgers' part 0 is still read, and a setting names the first part written, so a read
from the beginning starts there (docs/scale.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ...domain.claims import window_of

#: Windows per part: 31 days of 10-minute windows.
WINDOWS_PER_PART = 4_464
#: The ledger setting naming the first part written.
FROM_SETTING = "claim_windows_from"
#: Parts read past the reader's own clock (a writer's clock may run ahead of it), and before the
#: first part kept (a later writer's clock may run behind the first one's, across a part's edge).
_AHEAD = _BEHIND = 1

Execute = Callable[..., Awaitable[Any]]
Statement = Callable[[str], Awaitable[Any]]
ReadSettings = Callable[[], Awaitable[dict[str, str]]]
KeepSetting = Callable[[str, str], Awaitable[str]]


def part_of(window: int) -> int:
    """The part listing ``window``."""
    return window // WINDOWS_PER_PART


class WindowIndex:
    """Notes windows as the claim log writes them, and lists them for readers."""

    def __init__(
        self, execute: Execute, statement: Statement, read_settings: ReadSettings, keep_setting: KeepSetting
    ) -> None:
        self._execute = execute
        self._statement = statement
        self._read_settings = read_settings
        self._keep_setting = keep_setting
        self._from: int | None = None

    async def note(self, window: int) -> None:
        """List ``window`` (idempotent); the first part written is kept before any row of it."""
        if self._from is None:
            self._from = int(await self._keep_setting(FROM_SETTING, str(part_of(window))))
        await self._execute(await self._statement("log_window"), (part_of(window), window))

    async def since(self, first: int) -> list[int]:
        """Every window from ``first`` on that holds claim-log rows, oldest first."""
        if self._from is None:
            kept = (await self._read_settings()).get(FROM_SETTING)
            self._from = None if kept is None else int(kept)
        parts = [0]
        if self._from is not None:
            last = part_of(window_of(datetime.now(UTC))) + _AHEAD
            parts += range(max(1, self._from - _BEHIND, part_of(first)), last + 1)
        statement = await self._statement("claim_windows")
        results = await asyncio.gather(*(self._execute(statement, (part, first)) for part in parts))
        return sorted({row[0] for result in results for row in result.rows})
