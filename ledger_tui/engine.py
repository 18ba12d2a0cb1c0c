"""The engine: ledger rules over any Store, shared by the CLI, the console and the loader.

Screens and commands call only this module; it validates, stamps recorded times, resolves
buckets and named balances, and reads partitions with bounded concurrency.
"""

from __future__ import annotations

import asyncio
import bisect
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from .domain.balance import AddressPattern, BalanceFold, BalanceRow, NamedBalance
from .domain.errors import NotFound, ValidationError
from .domain.model import (
    Address,
    Entry,
    EntrySet,
    Leg,
    PostStatus,
    Receipt,
    RecordedTransaction,
    Side,
)
from .domain.money import DEFAULT_CURRENCIES, MONEY_CONTEXT, Currencies, money_sum
from .domain.parse import build_entry_set, parse_entry_set_json
from .domain.periods import Granularity, periods
from .domain.timeutil import TimeRange, bucket_start, truncate_to_ms
from .store.base import TREE_DEPTH, Page, PageToken, Store

T = TypeVar("T")
Clock = Callable[[], datetime]
REVERSAL_NAMESPACE = uuid.UUID("6f1d2b8e-3c1a-4f7e-9a55-0c2f6d7b9e10")
_READ_BATCH = 1000


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PeriodBalance:
    """One point of a balance series: movements in the period and the closing balance."""

    period: TimeRange
    currency: str
    debits: Decimal
    credits: Decimal
    closing: Decimal


@dataclass(slots=True)
class VerifyReport:
    """Outcome of a whole-ledger audit; ``ok`` only when no discrepancy was found."""

    transactions: int = 0
    entries: int = 0
    accounts: int = 0
    totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every transaction and every currency balances."""
        return not self.problems


class Engine:
    """Domain rules over a Store: post, read, balance, verify."""

    def __init__(
        self,
        store: Store,
        *,
        currencies: Currencies = DEFAULT_CURRENCIES,
        clock: Clock = system_clock,
        named_balances: dict[str, NamedBalance] | None = None,
        read_concurrency: int = 8,
    ) -> None:
        self.store = store
        self.currencies = currencies
        self.named_balances = dict(named_balances or {})
        self._clock = clock
        self._read_slots = asyncio.Semaphore(read_concurrency)

    # -- writing -------------------------------------------------------------------------

    async def post(self, entry_set: EntrySet) -> Receipt:
        """Record a balanced entry set once; a retry with the same id returns the original."""
        recorded_at = truncate_to_ms(self._clock().astimezone(UTC))
        transaction = RecordedTransaction(
            transaction_id=entry_set.transaction_id,
            legs=entry_set.legs,
            payload_hash=entry_set.payload_hash,
            recorded_at=recorded_at,
        )
        write = asyncio.ensure_future(self.store.record(transaction))
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

    # -- reading ---------------------------------------------------------------------------

    async def transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction:
        """One transaction with all its legs; raises NotFound."""
        found = await self.store.get_transaction(transaction_id)
        if found is None:
            raise NotFound(f"no transaction {transaction_id}")
        return found

    async def children(
        self, parent: tuple[str, ...], page_size: int = 500, token: PageToken | None = None
    ) -> Page[str]:
        """One level of the account tree (legal entities for ``()``), paged."""
        if len(parent) >= TREE_DEPTH:
            raise ValueError("an account_id has no children in the account tree")
        return await self.store.list_children(parent, page_size, token)

    async def all_children(self, parent: tuple[str, ...]) -> list[str]:
        """Every child of one tree node, across pages."""
        children: list[str] = []
        token: PageToken | None = None
        while True:
            page = await self._slot(self.children(parent, 1000, token))
            children.extend(page.items)
            if page.next_token is None:
                return children
            token = page.next_token

    async def accounts(self) -> list[Address]:
        """Every account in the ledger, walked level by level with bounded concurrency."""
        level: list[tuple[str, ...]] = [()]
        for _ in range(TREE_DEPTH):
            found = await self._gather(self.all_children(parent) for parent in level)
            level = [(*parent, child) for parent, kids in zip(level, found, strict=True) for child in kids]
        return sorted(Address(*path) for path in level)

    async def buckets(self, address: Address) -> list[str]:
        """Monthly buckets that hold entries of ``address``, oldest first."""
        return await self.store.list_buckets(address)

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
            inner: PageToken | None = None
        else:
            buckets, inner = token.state  # type: ignore[misc]
        page = await self.store.read_entries(address, buckets, time_range, page_size, inner)
        next_token = None if page.next_token is None else PageToken((buckets, page.next_token))
        return Page(page.items, next_token)

    async def resolve(self, target: Address | AddressPattern | str) -> list[Address]:
        """Addresses a balance target covers: one address, a pattern, or a named balance."""
        if isinstance(target, Address):
            return [target]
        patterns: Sequence[AddressPattern]
        if isinstance(target, AddressPattern):
            patterns = [target]
        else:
            named = self.named_balances.get(target)
            if named is None:
                known = ", ".join(sorted(self.named_balances)) or "none defined"
                raise NotFound(f"no named balance {target!r} (known: {known})")
            patterns = named.patterns
        addresses: set[Address] = set()
        wildcards = [p for p in patterns if p.is_wildcard]
        found = await self._gather(self.all_children(p.prefix()) for p in wildcards)
        for pattern, account_ids in zip(wildcards, found, strict=True):
            addresses.update(Address(*pattern.prefix(), acct) for acct in account_ids)
        addresses.update(Address(*p.prefix(), p.account_id) for p in patterns if not p.is_wildcard)
        return sorted(addresses)

    async def _entries_until(self, address: Address, end: datetime | None) -> list[Entry]:
        """Every entry of ``address`` before ``end``, reading its buckets concurrently."""
        listed = await self._slot(self.buckets(address))
        buckets = [b for b in listed if end is None or bucket_start(b) < end]
        scope = TimeRange(None, end)
        chunks = await self._gather(self._read_bucket(address, b, scope) for b in buckets)
        return [entry for chunk in chunks for entry in chunk]

    async def _read_bucket(self, address: Address, bucket: str, scope: TimeRange) -> list[Entry]:
        rows: list[Entry] = []
        resume: object | None = None
        while True:
            chunk, resume = await self._slot(
                self.store.fetch_bucket(address, bucket, scope, _READ_BATCH, resume)
            )
            rows.extend(chunk)
            if resume is None:
                return rows

    async def balance(
        self, target: Address | AddressPattern | str, time_range: TimeRange = TimeRange()
    ) -> list[BalanceRow]:
        """Per-currency opening, debits, credits and closing of a target over [start, end)."""
        fold = BalanceFold(time_range.start, time_range.end)
        addresses = await self.resolve(target)
        for entries in await self._gather(self._entries_until(a, time_range.end) for a in addresses):
            fold.add_all(entries)
        return fold.result()

    async def balance_series(
        self,
        target: Address | AddressPattern | str,
        time_range: TimeRange,
        granularity: Granularity,
    ) -> list[PeriodBalance]:
        """Closing balance per period and currency in one pass over the entries (for charts)."""
        spans = periods(time_range, granularity)
        starts = [span.start for span in spans if span.start is not None]  # periods are bounded
        addresses = await self.resolve(target)
        chunks = await self._gather(self._entries_until(a, time_range.end) for a in addresses)
        opening: dict[str, Decimal] = defaultdict(Decimal)
        moves: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for entry in (e for chunk in chunks for e in chunk):
            currency = entry.address.currency
            if time_range.start is not None and entry.effective_at < time_range.start:
                opening[currency] = MONEY_CONTEXT.add(opening[currency], entry.signed_amount)
                continue
            index = bisect.bisect_right(starts, entry.effective_at) - 1
            slot = moves[(index, currency)]
            column = 0 if entry.side is Side.DEBIT else 1
            slot[column] = MONEY_CONTEXT.add(slot[column], entry.amount)
            opening.setdefault(currency, Decimal(0))
        series: list[PeriodBalance] = []
        for currency in sorted(opening):
            running = opening[currency]
            for index, span in enumerate(spans):
                debits, credits = moves.get((index, currency), (Decimal(0), Decimal(0)))
                running = MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(running, credits), debits)
                series.append(PeriodBalance(span, currency, debits, credits, running))
        return series

    # -- audit -----------------------------------------------------------------------------

    async def verify(self) -> VerifyReport:
        """Check every transaction balances per currency, its rows exist, and the books close."""
        report = VerifyReport()
        declared: dict[uuid.UUID, RecordedTransaction] = {}
        token: PageToken | None = None
        while True:
            page = await self.store.scan_transactions(1000, token)
            for transaction in page.items:
                declared[transaction.transaction_id] = transaction
            if page.next_token is None:
                break
            token = page.next_token
        report.transactions = len(declared)
        accounts = await self.accounts()
        report.accounts = len(accounts)
        seen: dict[uuid.UUID, list[Entry]] = defaultdict(list)
        debits: dict[str, list[Decimal]] = defaultdict(list)
        credits: dict[str, list[Decimal]] = defaultdict(list)
        for entries in await self._gather(self._entries_until(a, None) for a in accounts):
            for entry in entries:
                report.entries += 1
                seen[entry.transaction_id].append(entry)
                (debits if entry.side is Side.DEBIT else credits)[entry.address.currency].append(entry.amount)
        for txid, transaction in declared.items():
            rows = sorted(seen.pop(txid, []), key=lambda e: e.leg_index)
            expected = transaction.entries()
            if [_row_key(e) for e in rows] != [_row_key(e) for e in expected]:
                report.problems.append(
                    f"transaction {txid}: {len(rows)} of {len(expected)} rows found or rows differ"
                )
            try:
                build_entry_set(txid, list(transaction.legs))
            except ValidationError as error:
                report.problems.append(f"transaction {txid}: {error}")
        for txid in seen:
            report.problems.append(f"entries of unknown transaction {txid}")
        for currency in sorted(set(debits) | set(credits)):
            total_debits = money_sum(debits[currency])
            total_credits = money_sum(credits[currency])
            report.totals[currency] = (total_debits, total_credits)
            if total_debits != total_credits:
                report.problems.append(
                    f"{currency}: total debits {total_debits} != total credits {total_credits}"
                )
        return report

    # -- helpers ---------------------------------------------------------------------------

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


def _row_key(entry: Entry) -> tuple[object, ...]:
    return (entry.leg_index, entry.address, entry.side, entry.amount, entry.effective_at)
