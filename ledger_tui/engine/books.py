"""The whole books of a ledger: every set as recorded, for a dump, a restore and a digest.

Why restore writes through the bulk path with the sets' own recording times: receipts, as-of
reads, late marks and balance blocks then come out as in the source, and a restore cut short
by kill -9 is completed by ``repair`` and rerun like an import (the ids make repeats no-ops).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.blocks import SealPolicy
from ..domain.claims import RecordOutcome
from ..domain.dump import CARRIED_SETTINGS, BooksDigest
from ..domain.dump_extras import hold_at
from ..domain.errors import LedgerError
from ..domain.holds import Hold
from ..domain.layout import PARTITION_ROWS_SETTING, AccountLayout, Layouts
from ..domain.limits import LimitChange
from ..domain.model import RecordedTransaction
from ..store.base import Store
from .audit import SCAN_SETS
from .layouts import put_partition_rows
from .reads import drain

#: The setting a restore writes first, so that a rerun of the same dump may resume.
RESTORED_FROM = "restored_from"


class Books:
    """Every set of one ledger: scanned page by page (flat memory), restored, digested."""

    def __init__(self, store: Store, policy: Callable[[], SealPolicy]) -> None:
        self._store = store
        self._policy = policy

    async def sets(self, as_of: datetime | None = None) -> AsyncIterator[list[RecordedTransaction]]:
        """Every set recorded (at or before ``as_of``), a page at a time, in the store's order."""
        async for page in drain(lambda token: self._store.scan_transactions(SCAN_SETS, token)):
            yield page if as_of is None else [t for t in page if t.recorded_at <= as_of]

    async def digest(self, as_of: datetime | None = None) -> BooksDigest:
        """The digest of every set recorded (at or before ``as_of``)."""
        digest = BooksDigest()
        async for page in self.sets(as_of):
            for transaction in page:
                digest.add(transaction)
        return digest

    async def settings(self) -> dict[str, str]:
        """The ledger settings a dump carries."""
        stored = await self._store.read_settings()
        return {name: stored[name] for name in CARRIED_SETTINGS if name in stored}

    async def holds_sets(self) -> bool:
        """Whether the ledger holds any set at all (one page read)."""
        page = await self._store.scan_transactions(1)
        return bool(page.items)

    async def layouts(self) -> tuple[AccountLayout, ...]:
        """The account layout changes a dump carries (so the copy partitions as the source)."""
        return tuple(Layouts(await self._store.read_layouts()).history())

    async def prepare_restore(
        self, dump_id: str, settings: dict[str, str], layouts: Sequence[AccountLayout] = ()
    ) -> bool:
        """Make this ledger ready for the dump ``dump_id``: an empty ledger takes the dump's seal
        horizon, partition rows and account layouts, and remembers the dump; one that already restored it may
        resume (True). A ledger holding other sets is refused with the reason, and nothing is
        written to it."""
        stored = await self._store.read_settings()
        resumed = stored.get(RESTORED_FROM) == dump_id
        if not resumed and await self.holds_sets():
            raise LedgerError(
                "the ledger already holds entry sets (not from this dump): restore only into an empty "
                "ledger, or rerun the restore that this ledger came from"
            )
        horizon = settings.get("seal_horizon_ms")
        current = stored.get("seal_horizon_ms")
        if (
            horizon is not None
            and current is not None
            and horizon != current
            and (resumed or await self._store.replace_setting("seal_horizon_ms", current, horizon) != horizon)
        ):
            raise LedgerError(
                f"the ledger's seal horizon ({current} ms) is not the dump's ({horizon} ms) "
                "and could not be changed"
            )
        if not resumed and await self._store.keep_setting(RESTORED_FROM, dump_id) != dump_id:
            raise LedgerError("another restore into this ledger started at the same time")
        rows = settings.get(PARTITION_ROWS_SETTING)
        if rows is not None:  # so it splits busy accounts as the source did
            await put_partition_rows(self._store, int(rows))
        for change in layouts:  # before any set, so every row lands where the source put it
            await self._store.record_layout(change)
        return resumed

    async def holds_and_limits(self, as_of: datetime | None = None) -> tuple[list[Hold], list[LimitChange]]:
        """Every hold (as it stood at ``as_of``), oldest first, and the limit history (changes
        made by ``as_of``): what a dump or a copy carries beside the sets."""
        every = await self._store.read_holds(open_only=False)
        holds = [h for h in (hold_at(hold, as_of) for hold in every) if h is not None]
        history = await self._store.read_limit_history()
        return holds, [c for c in history if as_of is None or c.changed_at <= as_of]

    async def restore_holds_and_limits(self, holds: Sequence[Hold], history: Sequence[LimitChange]) -> int:
        """Record holds and the limit history after every set is restored (so no limit refuses a
        set the source accepted); how many were new."""
        return await self._store.restore_holds_and_limits(holds, history)

    async def restore(self, transactions: Sequence[RecordedTransaction]) -> list[RecordOutcome]:
        """Record sets as they were recorded (their own times); one outcome each, in order. A write
        that has started finishes whole even when the caller is cancelled (as the engine's do)."""
        write = asyncio.ensure_future(
            self._store.record_many(transactions, self._policy(), complete_duplicates=False)
        )
        try:
            return await asyncio.shield(write)
        except asyncio.CancelledError:
            await asyncio.wait([write])
            raise


@dataclass(slots=True)
class CopyTally:
    """What a copy did: sets and entries read from the source, and the target's outcomes."""

    digest: BooksDigest = field(default_factory=BooksDigest)
    new: int = 0
    already_there: int = 0
    conflicting: int = 0


async def copy_books(
    source: Books,
    target: Books,
    *,
    as_of: datetime | None = None,
    chunk: int = 2000,
    writers: int = 2,
    on_progress: Callable[[CopyTally], None] | None = None,
) -> CopyTally:
    """Every set of ``source`` (recorded at or before ``as_of``) into ``target``, ``chunk`` sets
    a write and ``writers`` writes in flight, digesting the source as it is read."""
    tally = CopyTally()
    chunks: asyncio.Queue[list[RecordedTransaction] | None] = asyncio.Queue(maxsize=writers)

    async def read() -> None:
        pending: list[RecordedTransaction] = []
        async for page in source.sets(as_of):
            for transaction in page:
                tally.digest.add(transaction)
            pending.extend(page)
            if len(pending) >= chunk:
                await chunks.put(pending)
                pending = []
        if pending:
            await chunks.put(pending)
        for _ in range(writers):
            await chunks.put(None)

    async def write() -> None:
        while (sets := await chunks.get()) is not None:
            for outcome in await target.restore(sets):
                if outcome.conflicting:
                    tally.conflicting += 1
                elif outcome.duplicate:
                    tally.already_there += 1
                else:
                    tally.new += 1
            if on_progress is not None:
                on_progress(tally)

    tasks = [asyncio.ensure_future(read()), *(asyncio.ensure_future(write()) for _ in range(writers))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)  # a write in flight finishes whole (the store's writes are shielded)
        raise
    return tally
