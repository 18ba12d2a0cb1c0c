"""The account layouts a writer places entry rows by, read from the ledger and kept fresh.

Why: every write and repair must put a row in the same partition, or a leg could be stored twice;
a change applies two minutes after it is written and a writer trusts its copy for a minute, so no
writer places a row by a layout a change it has not seen would alter (docs/scale.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ...domain.blocks import account_node
from ...domain.layout import AccountLayout, Layouts
from ...domain.model import Address
from ...domain.timeutil import from_epoch_ms, to_epoch_ms

#: How long a writer's copy of the layouts is trusted, by recorded time and by wall time.
REFRESH_MS = 60_000

AllRows = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]
Execute = Callable[..., Awaitable[Any]]
Prepare = Callable[[str], Awaitable[Any]]


class LayoutBook:
    """This process's copy of every account layout (see the module docstring)."""

    def __init__(self, all_rows: AllRows, execute: Execute, prepare: Prepare) -> None:
        self._all_rows = all_rows
        self._execute = execute
        self._prepare = prepare
        self._layouts = Layouts()
        self._read_at_ms: int | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Layouts:
        """Layouts to place rows written now by (read again once ``REFRESH_MS`` old)."""
        read_at = self._read_at_ms
        if read_at is None or _wall_ms() - read_at >= REFRESH_MS:
            async with self._lock:
                if self._read_at_ms == read_at:
                    await self.reload()
        return self._layouts

    async def reload(self) -> list[AccountLayout]:
        """Read every layout change again."""
        started = _wall_ms()
        rows = await self._all_rows("layouts", ())
        changes = [
            AccountLayout(Address(*json.loads(account)), from_epoch_ms(since_ms), bucket, subs)
            for account, since_ms, bucket, subs in rows
        ]
        self._layouts = Layouts(changes)
        self._read_at_ms = started
        return changes

    async def record(self, change: AccountLayout) -> AccountLayout:
        """Record a change (a second one with the same account and time keeps the first)."""
        statement = await self._prepare("record_layout")
        parameters = (account_node(change.address), to_epoch_ms(change.since), change.bucket, change.subs)
        await self._execute(statement, parameters)
        stored = [c for c in await self.reload() if (c.address, c.since) == (change.address, change.since)]
        return stored[0] if stored else change


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000
