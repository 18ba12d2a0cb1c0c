"""The engine: ledger rules over any Store, shared by the CLI, the console and the loader.

Faces call only the engine; it validates, stamps recorded times, resolves buckets and named
balances, folds balances with the domain's one fold, and reads partitions with bounded
concurrency. Nothing outside it touches a store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from ..domain.address import AddressPattern
from ..domain.audit import Audit, VerifyReport
from ..domain.balance import BalanceFold, BalanceRow, PeriodBalance, SeriesFold
from ..domain.errors import LedgerError, NotFound
from ..domain.model import (
    TREE_DEPTH,
    Address,
    Entry,
    EntrySet,
    Leg,
    PostStatus,
    Receipt,
    RecordedTransaction,
    Side,
)
from ..domain.money import DEFAULT_CURRENCIES, Currencies
from ..domain.named import NamedBalance
from ..domain.paging import Page, PageToken
from ..domain.parse import build_entry_set, parse_entry_set_json
from ..domain.periods import Granularity, periods
from ..domain.timeutil import TimeRange, bucket_start, truncate_to_ms
from ..store.base import Store, StoreInfo
from .reads import EntryCursor, collect, drain

T = TypeVar("T")
Clock = Callable[[], datetime]
Target = Address | AddressPattern | str
REVERSAL_NAMESPACE = uuid.UUID("6f1d2b8e-3c1a-4f7e-9a55-0c2f6d7b9e10")
#: Rows per store call when a read folds whole partitions (balances, verify).
READ_BATCH = 1000


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class Engine:
    """Domain rules over a Store: post, read, balance, verify."""

    def __init__(
        self,
        store: Store,
        *,
        currencies: Currencies = DEFAULT_CURRENCIES,
        clock: Clock = system_clock,
        named_balances: dict[str, NamedBalance] | None = None,
        named_balances_error: LedgerError | None = None,
        read_concurrency: int = 8,
    ) -> None:
        self._store = store
        self.currencies = currencies
        self.named_balances = dict(named_balances or {})
        # Why the named balances could not be loaded: raised when one is asked for by name.
        self.named_balances_error = named_balances_error
        self._clock = clock
        self._read_slots = asyncio.Semaphore(read_concurrency)

    # -- the store's lifecycle -----------------------------------------------------------------

    @property
    def info(self) -> StoreInfo:
        """Which store this engine runs on (kind and target, never credentials)."""
        return self._store.info

    async def connect(self) -> None:
        """Connect (an embedded store also creates its schema); raises StoreUnavailable."""
        await self._store.connect()

    async def close(self) -> None:
        """Release the store's connections; safe to call twice."""
        await self._store.close()

    async def apply_schema(self) -> None:
        """Create the keyspace and tables if missing (idempotent)."""
        await self._store.apply_schema()

    # -- writing -------------------------------------------------------------------------------

    async def post(self, entry_set: EntrySet) -> Receipt:
        """Record a balanced entry set once; a retry with the same id returns the original."""
        recorded_at = truncate_to_ms(self._clock().astimezone(UTC))
        transaction = RecordedTransaction(
            transaction_id=entry_set.transaction_id,
            legs=entry_set.legs,
            payload_hash=entry_set.payload_hash,
            recorded_at=recorded_at,
        )
        write = asyncio.ensure_future(self._store.record(transaction))
        try:
            outcome = await asyncio.shield(write)
        except asyncio.CancelledError:
            # Cancelled mid-write (Ctrl-C, a screen left): let the started claim and batch finish,
            # so an interruption never leaves a claim without its rows behind.
            await asyncio.wait([write])
            raise
        status = PostStatus.DUPLICATE if outcome.duplicate else PostStatus.RECORDED
        return Receipt(outcome.transaction, status, outcome.transaction.entries())

    async def post_json(self, text: str | bytes) -> Receipt:
        """Parse the origin's JSON format, validate, and post."""
        return await self.post(parse_entry_set_json(text, self.currencies))

    async def reverse(self, transaction_id: uuid.UUID, description: str | None = None) -> Receipt:
        """Post the mirror image of a transaction (the only way to correct an immutable ledger).

        The reversal's id is derived from the original's, so reversing twice is a duplicate.
        """
        original = await self.transaction(transaction_id)
        legs = [
            Leg(
                address=leg.address,
                side=Side.CREDIT if leg.side is Side.DEBIT else Side.DEBIT,
                amount=leg.amount,
                description=description or f"Reversal of {transaction_id}: {leg.description}"[:1024],
                effective_at=None,
            )
            for leg in original.legs
        ]
        reversal_id = uuid.uuid5(REVERSAL_NAMESPACE, str(transaction_id))
        return await self.post(build_entry_set(reversal_id, legs))

    # -- reading -------------------------------------------------------------------------------

    async def transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction:
        """One transaction with all its legs; raises NotFound."""
        found = await self._store.get_transaction(transaction_id)
        if found is None:
            raise NotFound(f"no transaction {transaction_id}")
        return found

    async def children(
        self, parent: tuple[str, ...], page_size: int = 500, token: PageToken | None = None
    ) -> Page[str]:
        """One level of the account tree (legal entities for ``()``), paged."""
        if len(parent) >= TREE_DEPTH:
            raise ValueError("an account_id has no children in the account tree")
        return await self._slot(self._store.list_children(parent, page_size, token))

    async def all_children(self, parent: tuple[str, ...]) -> list[str]:
        """Every child of one tree node, across pages."""
        return await collect(lambda token: self.children(parent, READ_BATCH, token))

    async def accounts(self) -> list[Address]:
        """Every account in the ledger, walked level by level with bounded concurrency."""
        level: list[tuple[str, ...]] = [()]
        for _ in range(TREE_DEPTH):
            found = await self._gather(self.all_children(parent) for parent in level)
            level = [(*parent, child) for parent, kids in zip(level, found, strict=True) for child in kids]
        return sorted(Address(*path) for path in level)

    async def buckets(self, address: Address) -> list[str]:
        """Monthly buckets that hold entries of ``address``, oldest first."""
        return await collect(lambda token: self._slot(self._store.list_buckets(address, READ_BATCH, token)))

    async def entries(
        self,
        address: Address,
        time_range: TimeRange = TimeRange(),
        page_size: int = 100,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        """Entries of one account in a range, in ledger order, one page at a time.

        The first call resolves the account's buckets that touch the range (from the index,
        never probing empty months); the token carries that list so pages stay consistent.
        """
        if token is None:
            buckets = tuple(b for b in await self.buckets(address) if time_range.touches_bucket(b))
            cursor = EntryCursor(address, time_range, buckets)
        else:
            cursor = EntryCursor.from_token(token, address, time_range)

        def fetch(bucket: str, size: int, resume: PageToken | None) -> Awaitable[Page[Entry]]:
            return self._slot(self._store.read_bucket(address, bucket, time_range, size, resume))

        return await cursor.page(page_size, fetch)

    async def iter_entries(
        self, address: Address, time_range: TimeRange = TimeRange()
    ) -> AsyncIterator[list[Entry]]:
        """Every entry of one account in a range, page by page (for exports)."""
        async for chunk in drain(lambda token: self.entries(address, time_range, READ_BATCH, token)):
            yield chunk

    async def resolve(self, target: Target) -> list[Address]:
        """Addresses a balance target covers: one address, a pattern, or a named balance."""
        if isinstance(target, Address):
            return [target]
        patterns: Sequence[AddressPattern] = (
            [target] if isinstance(target, AddressPattern) else self.named_balance(target).patterns
        )
        addresses: set[Address] = set()
        wildcards = [p for p in patterns if p.is_wildcard]
        found = await self._gather(self.all_children(p.prefix()) for p in wildcards)
        for pattern, account_ids in zip(wildcards, found, strict=True):
            addresses.update(Address(*pattern.prefix(), acct) for acct in account_ids)
        addresses.update(Address(*p.prefix(), p.account_id) for p in patterns if not p.is_wildcard)
        return sorted(addresses)

    def named_balance(self, name: str) -> NamedBalance:
        """The named balance ``name``; raises NotFound (or why the file could not be loaded)."""
        named = self.named_balances.get(name)
        if named is not None:
            return named
        if self.named_balances_error is not None:
            raise self.named_balances_error
        known = ", ".join(sorted(self.named_balances)) or "none defined"
        raise NotFound(f"no named balance {name!r} (known: {known})")

    async def _fold_until(
        self, address: Address, end: datetime | None, fold: Callable[[Entry], None]
    ) -> None:
        """Fold every entry of ``address`` before ``end``, reading its buckets concurrently."""
        buckets = [b for b in await self.buckets(address) if end is None or bucket_start(b) < end]
        scope = TimeRange(None, end)

        async def fold_bucket(bucket: str) -> None:
            def fetch(token: PageToken | None) -> Awaitable[Page[Entry]]:
                return self._slot(self._store.read_bucket(address, bucket, scope, READ_BATCH, token))

            async for chunk in drain(fetch):
                for entry in chunk:
                    fold(entry)

        await self._gather(fold_bucket(b) for b in buckets)

    async def _fold_target(self, target: Target, end: datetime | None, fold: Callable[[Entry], None]) -> None:
        addresses = await self.resolve(target)
        await self._gather(self._fold_until(address, end, fold) for address in addresses)

    async def balance(self, target: Target, time_range: TimeRange = TimeRange()) -> list[BalanceRow]:
        """Per-currency opening, debits, credits and closing of a target over [start, end)."""
        fold = BalanceFold(time_range.start, time_range.end)
        await self._fold_target(target, time_range.end, fold.add_entry)
        return fold.result()

    async def balance_series(
        self, target: Target, time_range: TimeRange, granularity: Granularity
    ) -> list[PeriodBalance]:
        """Closing balance per period and currency in one pass over the entries (for charts)."""
        fold = SeriesFold(periods(time_range, granularity))
        await self._fold_target(target, time_range.end, fold.add_entry)
        return fold.result()

    # -- audit ---------------------------------------------------------------------------------

    async def verify(self) -> VerifyReport:
        """Check every transaction balances per currency, its rows exist, and the books close."""
        audit = Audit()
        async for chunk in drain(lambda token: self._store.scan_transactions(READ_BATCH, token)):
            for transaction in chunk:
                audit.declare(transaction)
        accounts = await self.accounts()
        await self._gather(self._fold_until(address, None, audit.see) for address in accounts)
        return audit.report(len(accounts))

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    async def _gather(jobs: Iterable[Awaitable[T]]) -> list[T]:
        """Run jobs concurrently; each store call inside takes a read slot (see ``_slot``)."""
        return list(await asyncio.gather(*jobs))

    async def _slot(self, call: Awaitable[T]) -> T:
        """Await one store call holding a read slot, so at most ``read_concurrency`` are in flight.

        Slots guard leaf calls only: nested fan-outs never hold a slot while waiting on another.
        """
        async with self._read_slots:
            return await call
