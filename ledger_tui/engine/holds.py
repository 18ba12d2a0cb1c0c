"""Holds over a store: place one, capture (whole or in part), void, sweep the expired, read what is
pending. Why apart from posting: a hold's outcome is decided once, by the store, whoever asks
first (a person, the sweeper, a retry), and expiry is exact at read time whether swept or not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.address import AddressPattern
from ..domain.blocks import SealPolicy
from ..domain.errors import LedgerError, NotFound, ValidationError
from ..domain.holds import (
    Hold,
    HoldOutcome,
    Pending,
    check_duration,
    hold_problems,
    pending_by_account,
    pending_by_currency,
)
from ..domain.model import Address, EntrySet, RecordedTransaction
from ..domain.timeutil import truncate_to_ms
from ..store.base import Store

#: How long a hold waits for its outcome when the poster does not say.
DEFAULT_HOLD = timedelta(days=7)
#: Seconds between the sweeps a server runs in the background.
SWEEP_EVERY = 5.0


@dataclass(frozen=True, slots=True)
class HoldReceipt:
    """What placing or settling a hold answers: the hold, and whether this was a repeat."""

    hold: Hold
    repeated: bool


class HoldBook:
    """Place, capture, void and sweep holds; read them and what they hold pending."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime], policy: Callable[[], Awaitable[SealPolicy]]
    ) -> None:
        self._store, self._clock, self._policy = store, clock, policy

    def now(self) -> datetime:
        """The ledger's now (what a hold's state is judged at)."""
        return truncate_to_ms(self._clock().astimezone(UTC))

    async def place(
        self, entry_set: EntrySet, expires_in: timedelta | None = None, expires_at: datetime | None = None
    ) -> HoldReceipt:
        """Hold ``entry_set`` until ``expires_at`` (or for ``expires_in``, default DEFAULT_HOLD).
        A retry with the same id and legs answers the hold placed first."""
        now = self.now()
        if expires_at is not None and expires_in is not None:
            raise ValidationError.single("expires_at", "give expires_at or expires_in, not both")
        if expires_at is None:
            expires_at = now + check_duration(expires_in or DEFAULT_HOLD, "expires_in")
        else:
            check_duration(expires_at - now, "expires_at")
        transaction = RecordedTransaction.of(entry_set, now)
        hold, repeated = await self._store.place_hold(transaction, truncate_to_ms(expires_at))
        return HoldReceipt(hold, repeated)

    async def capture(self, hold_id: uuid.UUID, entry_set: EntrySet | None = None) -> HoldReceipt:
        """Post the held legs (or, with ``entry_set``, at most them: the rest is released) under
        the hold's id. A second capture answers the first; after a void or expiry it is refused."""
        now = self.now()
        hold = await self.get(hold_id)
        legs = hold.transaction.legs if entry_set is None else entry_set.legs
        capture = RecordedTransaction.of(EntrySet(hold_id, legs), now)
        settled, repeated = await self._store.settle_hold(
            hold_id, HoldOutcome.CAPTURED, now, capture, await self._policy()
        )
        return HoldReceipt(settled, repeated)

    async def void(self, hold_id: uuid.UUID) -> HoldReceipt:
        """Release a hold. A second void answers the first; after a capture or expiry it is refused."""
        settled, repeated = await self._store.settle_hold(
            hold_id, HoldOutcome.VOIDED, self.now(), None, await self._policy()
        )
        return HoldReceipt(settled, repeated)

    async def sweep(self) -> int:
        """Record every hold past its expiry as expired (reads never wait for this)."""
        return await self._store.sweep_holds(self.now(), await self._policy())

    async def keep_swept(
        self, every: float = SWEEP_EVERY, on_error: Callable[[LedgerError], None] | None = None
    ) -> None:
        """Sweep every ``every`` seconds until cancelled; a failed sweep is reported and tried again
        (reads never wait for sweeps: expiry is exact at read time)."""
        while True:
            try:
                await self.sweep()
            except LedgerError as error:
                if on_error is not None:
                    on_error(error)
            await asyncio.sleep(every)

    async def get(self, hold_id: uuid.UUID) -> Hold:
        """One hold and its outcome; NotFound if there is none."""
        hold = await self._store.read_hold(hold_id)
        if hold is None:
            raise NotFound(f"no hold {hold_id}")
        return hold

    async def pending_holds(self, pattern: AddressPattern | None = None) -> list[Hold]:
        """Holds pending now (expired ones excluded, swept or not), oldest first; with ``pattern``,
        those with a leg on an account it selects."""
        now = self.now()
        return [
            hold
            for hold in await self._store.read_holds(open_only=True)
            if hold.pending_at(now)
            and (pattern is None or any(pattern.matches(leg.address) for leg in hold.transaction.legs))
        ]

    async def all_holds(self, pattern: AddressPattern | None = None) -> list[Hold]:
        """Every hold ever placed, with its outcome, oldest first; with ``pattern``, those with a
        leg on an account it selects."""
        return [
            hold
            for hold in await self._store.read_holds(open_only=False)
            if pattern is None or any(pattern.matches(leg.address) for leg in hold.transaction.legs)
        ]

    async def pending_by_currency(
        self, pattern: AddressPattern | Address, as_of: datetime | None = None
    ) -> dict[str, Pending]:
        """Pending debits and credits of the accounts ``pattern`` selects, per currency."""
        return pending_by_currency((await self.pending(pattern, as_of)).items())

    async def pending(
        self, pattern: AddressPattern | Address | None = None, as_of: datetime | None = None
    ) -> dict[Address, Pending]:
        """Pending debits and credits per account now (or as held at ``as_of``)."""
        if as_of is None:
            found = await self._store.read_pending(self.now())
        else:
            found = pending_by_account(await self._store.read_holds(open_only=False), as_of)
        if pattern is None:
            return found
        if isinstance(pattern, Address):
            return {a: p for a, p in found.items() if a == pattern}
        return {a: p for a, p in found.items() if pattern.matches(a)}

    async def held_legs(self, address: Address, as_of: datetime | None = None) -> list[tuple[Hold, int]]:
        """The legs on ``address`` of the holds pending now (or at ``as_of``), oldest hold first:
        (hold, leg index)."""
        instant = self.now() if as_of is None else as_of
        holds = await self._store.read_holds(open_only=as_of is None)
        return [
            (hold, index)
            for hold in holds
            if hold.pending_at(instant)
            for index, leg in enumerate(hold.transaction.legs)
            if leg.address == address
        ]

    async def problems(self) -> list[str]:
        """What ``verify`` finds wrong with the holds (none when each has at most one outcome, and
        the pending totals equal a fold of the holds pending now)."""
        now = self.now()
        every = await self._store.read_holds(open_only=False)
        listed = await self._store.read_holds(open_only=True)
        return hold_problems(every, listed, await self._store.read_pending(now), now)
