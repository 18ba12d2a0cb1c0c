"""Splitting a hot account's partitions, and listing which accounts are split and how.

Why here: the layout lives in the ledger (every writer places rows by it), a change only ever
applies to rows recorded after it, so past entries are never rewritten (docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ..domain.address import parse_address
from ..domain.errors import ValidationError
from ..domain.layout import (
    MAX_PARTITION_ROWS,
    MIN_PARTITION_ROWS,
    PARTITION_ROWS,
    PARTITION_ROWS_SETTING,
    AccountLayout,
    Layouts,
    holds_more,
    layout_for_traffic,
)
from ..domain.model import Address
from ..domain.timeutil import truncate_to_ms
from ..store.base import Store

#: How far ahead a change takes effect (longer than any writer trusts its copy of the layouts).
LAYOUT_MARGIN = timedelta(minutes=2)


class LayoutBook:
    """Split accounts and list their layouts."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store, self._clock = store, clock

    async def history(self) -> list[AccountLayout]:
        """Every change, by account, oldest first."""
        return Layouts(await self._store.read_layouts()).history()

    async def split(
        self, account: Address | str, subs: int, bucket: str = "month", *, at_once: bool = False
    ) -> AccountLayout:
        """Partition ``account``'s entries recorded from now on by ``bucket`` and ``subs``.

        The change takes effect ``LAYOUT_MARGIN`` from now, when every running writer has read
        it; ``at_once`` applies it now, which is safe only when no other process writes."""
        address = parse_address(account, "account") if isinstance(account, str) else account
        now = truncate_to_ms(self._clock().astimezone(UTC))
        since = now if at_once else now + LAYOUT_MARGIN
        change = AccountLayout(address, since, bucket, subs)
        current = Layouts(await self._store.read_layouts()).at(address, 2**62)
        if current is not None and (current.bucket, current.subs) == (bucket, subs):
            raise ValidationError.single("subs", f"{address} is already split by {bucket} into {subs}")
        if current is not None and current.since >= since:
            when = current.since.isoformat(timespec="milliseconds")
            raise ValidationError.single("account", f"{address} already has a layout change from {when} on")
        return await self._store.record_layout(change)

    async def follow(self, busiest: dict[Address, int]) -> list[AccountLayout]:
        """Split the accounts whose busiest sealed day outgrows their partitions (never back):
        the coarsest layout sized for the ledger's partition rows, from ``LAYOUT_MARGIN`` on."""
        if not busiest:
            return []
        rows = await self.partition_rows()
        layouts = Layouts(await self._store.read_layouts())
        made = []
        for address, day_entries in sorted(busiest.items()):
            wanted = layout_for_traffic(day_entries, rows)
            if wanted is not None and holds_more(layouts.at(address, 2**62), *wanted):
                made.append(await self.split(address, wanted[1], wanted[0]))
        return made

    async def partition_rows(self) -> int:
        """Rows a partition is sized for when the ledger splits an account itself."""
        return int((await self._store.read_settings()).get(PARTITION_ROWS_SETTING, PARTITION_ROWS))

    async def set_partition_rows(self, rows: int) -> int:
        """Size the ledger's own splits for ``rows`` a partition (from the next seal on)."""
        whole = isinstance(rows, int) and not isinstance(rows, bool)
        if not whole or not MIN_PARTITION_ROWS <= rows <= MAX_PARTITION_ROWS:
            bounds = f"{MIN_PARTITION_ROWS:,} to {MAX_PARTITION_ROWS:,}"
            raise ValidationError.single("rows", f"must be a whole number from {bounds}")
        await put_partition_rows(self._store, rows)
        return rows


async def put_partition_rows(store: Store, rows: int) -> None:
    """Make ``rows`` the ledger's partition rows, whatever it was (a checked value)."""
    current = (await store.read_settings()).get(PARTITION_ROWS_SETTING)
    if current is None:
        current = await store.keep_setting(PARTITION_ROWS_SETTING, str(rows))
    while current != str(rows):
        current = await store.replace_setting(PARTITION_ROWS_SETTING, current, str(rows))
