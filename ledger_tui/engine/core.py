"""The engine: ledger rules over any Store, shared by the CLI, the console and the loader.

Faces call only the engine; it validates, stamps recorded times, resolves buckets and named
balances, folds balances with the domain's one fold, and reads partitions with bounded
concurrency. Nothing outside it touches a store.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ..domain.address import AddressPattern
from ..domain.audit import VerifyReport
from ..domain.balance import BalanceFold, BalanceRow, Fold, PeriodBalance, SeriesFold
from ..domain.blocks import DEFAULT_HORIZON, DEFAULT_MARGIN, SealPolicy, day_of
from ..domain.claims import RecordOutcome, RepairReport
from ..domain.entry_filter import MatchedEntry
from ..domain.errors import LedgerError, NotFound
from ..domain.model import (
    TREE_DEPTH,
    Address,
    Entry,
    EntrySet,
    PostStatus,
    Receipt,
    RecordedTransaction,
)
from ..domain.money import DEFAULT_CURRENCIES, Currencies
from ..domain.named import NamedBalance
from ..domain.paging import Page, PageToken
from ..domain.parse import REVERSAL_TEXT_BYTES, build_entry_set, parse_entry_set_json
from ..domain.reversal import reversal_id, reversal_legs
from ..domain.timeutil import Granularity, TimeRange, periods, truncate_to_ms
from ..domain.trial_balance import TrialBalance
from ..store.base import Store, StoreInfo
from ..store.credentials import Credentials
from . import audit, sealing, trial
from .balances import balance_nodes, fold_node
from .books import Books
from .changes import ChangeFeed
from .holds import HoldBook
from .keys import KeyBook
from .layouts import LayoutBook
from .limits import LimitBook
from .partitions import READ_BATCH, Partitions
from .patterns import expand_patterns
from .reads import EntryCursor, drain
from .register import EntryPredicate, MatchCursor
from .sealing import SealReport

T = TypeVar("T")
Clock = Callable[[], datetime]
Target = Address | AddressPattern | str
HORIZON_SETTING = "seal_horizon_ms"


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
        seal_horizon: timedelta = DEFAULT_HORIZON,
        seal_margin: timedelta = DEFAULT_MARGIN,
    ) -> None:
        self._store = store
        self._parts = Partitions(store, read_concurrency)
        self.currencies = currencies
        self.named_balances = dict(named_balances or {})
        # Why the named balances could not be loaded: raised when one is asked for by name.
        self.named_balances_error = named_balances_error
        self._clock = clock
        # The horizon is the ledger's own (read at connect); this one is used to create a ledger.
        self.policy = SealPolicy(seal_horizon, seal_margin)
        self._policy_loaded = False

    # -- the store's lifecycle -----------------------------------------------------------------

    @property
    def info(self) -> StoreInfo:
        """Which store this engine runs on (kind and target, never credentials)."""
        return self._store.info

    async def connect(self) -> None:
        """Connect (an embedded store also creates its schema) and read the ledger's seal horizon."""
        await self._store.connect()
        self._policy_loaded = False
        with contextlib.suppress(LedgerError):  # no schema yet (``schema apply`` comes next)
            await self._load_policy()

    async def _load_policy(self) -> None:
        """Every writer must classify late entries alike: the horizon stored in the ledger wins."""
        if self._policy_loaded:
            return
        settings = await self._store.read_settings()
        stored = settings.get(HORIZON_SETTING)
        if stored is None:
            wanted = str(int(self.policy.horizon / timedelta(milliseconds=1)))
            stored = await self._store.keep_setting(HORIZON_SETTING, wanted)
        self.policy = SealPolicy(timedelta(milliseconds=int(stored)), self.policy.margin)
        self._policy_loaded = True

    async def close(self) -> None:
        """Release the store's connections; safe to call twice."""
        await self._store.close()

    def books(self) -> Books:
        """Every set of the ledger as recorded: for dumps, restores and digests."""
        return Books(self._store, lambda: self.policy)

    def changes(self) -> ChangeFeed:
        """The ledger's change feed: every committed set as an event, in commit order."""
        return ChangeFeed(self._store)

    def layouts(self) -> LayoutBook:
        """The ledger's account layouts (how hot accounts' entries are partitioned)."""
        return LayoutBook(self._store, self._clock)

    def limits(self) -> LimitBook:
        """The ledger's account limits (kept in the ledger, so every writer enforces the same)."""
        return LimitBook(self._store, self.currencies, self._clock, self._loaded_policy)

    def holds(self) -> HoldBook:
        """Holds: entry sets posted as pending with an expiry, captured, voided or expired once."""
        return HoldBook(self._store, self._clock, self._loaded_policy)

    async def _loaded_policy(self) -> SealPolicy:
        await self._load_policy()
        return self.policy

    def keys(self) -> KeyBook:
        """The ledger's API keys (kept in the ledger, so every server shares them)."""
        return KeyBook(self._store, self._clock)

    async def reload_settings(self) -> None:
        """Read the ledger's seal horizon again (a restore into an empty ledger may have set it)."""
        self._policy_loaded = False
        await self._load_policy()

    def cluster_nodes(self) -> tuple[int, int] | None:
        """(nodes up, nodes known) when the store is a cluster, else None (cheap: no I/O)."""
        return self._store.cluster_nodes()

    def use_credentials(self, username: str, password: str) -> None:
        """Log in with these for the next connect (the console's prompt); never stored or shown."""
        self._store.use_credentials(Credentials(username, password, "console prompt"))

    async def apply_schema(self) -> None:
        """Create the keyspace and tables if missing (idempotent), and fix the seal horizon."""
        await self._store.apply_schema()
        self._policy_loaded = False
        await self._load_policy()

    # -- writing -------------------------------------------------------------------------------

    async def post(self, entry_set: EntrySet) -> Receipt:
        """Record a balanced entry set once; a retry with the same id returns the original."""
        recorded_at = truncate_to_ms(self._clock().astimezone(UTC))
        transaction = RecordedTransaction.of(entry_set, recorded_at)
        await self._load_policy()
        write = asyncio.ensure_future(self._store.record(transaction, self.policy))
        try:
            outcome = await asyncio.shield(write)
        except asyncio.CancelledError:
            # Cancelled mid-write (Ctrl-C, a screen left): let the started claim and batch finish,
            # so an interruption never leaves a claim without its rows behind.
            await asyncio.wait([write])
            raise
        status = PostStatus.DUPLICATE if outcome.duplicate else PostStatus.RECORDED
        return Receipt(outcome.transaction, status, outcome.transaction.entries())

    async def record_batch(
        self, entry_sets: Sequence[EntrySet], *, complete_duplicates: bool = False
    ) -> list[RecordOutcome]:
        """Record many validated sets in one store write (the import path): one outcome each,
        in order; a reused id with another payload is an outcome (``conflicting``), not an error.

        Duplicates' rows are not rewritten unless asked: importers run ``repair`` first, which
        completes any set a crash left partial.
        """
        recorded_at = truncate_to_ms(self._clock().astimezone(UTC))
        transactions = [RecordedTransaction.of(s, recorded_at) for s in entry_sets]
        await self._load_policy()
        write = asyncio.ensure_future(
            self._store.record_many(transactions, self.policy, complete_duplicates=complete_duplicates)
        )
        try:
            return await asyncio.shield(write)
        except asyncio.CancelledError:
            await asyncio.wait([write])  # as in post: a started write finishes whole
            raise

    async def repair(self) -> RepairReport:
        """Complete every set whose write was interrupted after its claim (idempotent, cheap:
        it reads only the claim log since the last repair)."""
        await self._load_policy()
        return await self._store.repair(self.policy, self._clock())

    async def post_json(self, text: str | bytes) -> Receipt:
        """Parse the origin's JSON format, validate, and post."""
        return await self.post(parse_entry_set_json(text, self.currencies))

    async def reverse(self, transaction_id: uuid.UUID, description: str | None = None) -> Receipt:
        """Post the mirror image of a transaction (the only way to correct an immutable ledger).

        The reversal's id is derived from the original's, so reversing twice is a duplicate.
        """
        original = await self.transaction(transaction_id)
        legs = reversal_legs(original, description)
        return await self.post(build_entry_set(reversal_id(transaction_id), legs, REVERSAL_TEXT_BYTES))

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
        return await self._parts.slot(self._store.list_children(parent, page_size, token))

    async def all_children(self, parent: tuple[str, ...]) -> list[str]:
        """Every child of one tree node, across pages."""
        return await self._parts.children(parent)

    async def accounts(self) -> list[Address]:
        """Every account in the ledger, walked level by level with bounded concurrency."""
        level: list[tuple[str, ...]] = [()]
        for _ in range(TREE_DEPTH):
            found = await self._gather(self.all_children(parent) for parent in level)
            level = [(*parent, child) for parent, kids in zip(level, found, strict=True) for child in kids]
        return sorted(Address(*path) for path in level)

    async def buckets(self, address: Address) -> list[str]:
        """Monthly buckets that hold entries of ``address``, oldest first."""
        return await self._parts.buckets(address)

    async def entries(
        self,
        address: Address,
        time_range: TimeRange = TimeRange(),
        page_size: int = 100,
        token: PageToken | None = None,
        as_of: datetime | None = None,
    ) -> Page[Entry]:
        """Entries of one account in a range, in ledger order, one page at a time.

        The first call resolves the account's buckets that touch the range (from the index,
        never probing empty months); the token carries that list so pages stay consistent.
        With ``as_of`` only entries recorded by then are listed (what the ledger showed then).
        """
        if token is None:
            buckets = tuple(b for b in await self.buckets(address) if time_range.touches_bucket(b))
            cursor = EntryCursor(address, time_range, buckets, as_of=as_of)
        else:
            cursor = EntryCursor.from_token(token, address, time_range, as_of)

        def fetch(bucket: str, size: int, resume: PageToken | None) -> Awaitable[Page[Entry]]:
            return self._parts.slot(self._store.read_bucket(address, bucket, time_range, size, resume))

        return await cursor.page(page_size, fetch)

    async def iter_entries(
        self, address: Address, time_range: TimeRange = TimeRange(), as_of: datetime | None = None
    ) -> AsyncIterator[list[Entry]]:
        """Every entry of one account in a range, page by page (for exports)."""
        async for chunk in drain(lambda token: self.entries(address, time_range, READ_BATCH, token, as_of)):
            yield chunk

    def named_balance(self, name: str) -> NamedBalance:
        """The named balance ``name``; raises NotFound (or why the file could not be loaded)."""
        named = self.named_balances.get(name)
        if named is not None:
            return named
        if self.named_balances_error is not None:
            raise self.named_balances_error
        known = ", ".join(sorted(self.named_balances)) or "none defined"
        raise NotFound(f"no named balance {name!r} (known: {known})")

    def _patterns(self, target: Target) -> list[Address | AddressPattern]:
        if isinstance(target, Address | AddressPattern):
            return [target]
        return list(self.named_balance(target).patterns)

    async def _fold(self, target: Target, time_range: TimeRange, as_of: datetime | None, fold: Fold) -> None:
        today = day_of(self._clock())
        nodes = balance_nodes(await expand_patterns(self._parts, self._patterns(target)))
        await self._parts.gather(
            fold_node(self._parts, node, time_range, as_of, fold, today) for node in nodes
        )

    async def balance(
        self, target: Target, time_range: TimeRange = TimeRange(), as_of: datetime | None = None
    ) -> list[BalanceRow]:
        """Per-currency opening, debits, credits and closing of a target over [start, end).

        Whole sealed days come from balance blocks; the rest is read live. With ``as_of``: what
        the ledger showed at that recorded time (only entries recorded by then).
        """
        fold = BalanceFold(time_range.start, time_range.end)
        await self._fold(target, time_range, as_of, fold)
        return fold.result()

    async def balance_series(
        self, target: Target, time_range: TimeRange, granularity: Granularity, as_of: datetime | None = None
    ) -> list[PeriodBalance]:
        """Closing balance per period and currency (for charts), from blocks where they serve."""
        fold = SeriesFold(periods(time_range, granularity))
        await self._fold(target, time_range, as_of, fold)
        return fold.result()

    # -- sealing and audit -----------------------------------------------------------------------

    async def seal(
        self, *, rebuild: bool = False, on_progress: Callable[[SealReport, int], None] | None = None
    ) -> SealReport:
        """Write balance blocks for every settled day (``rebuild``: recompute them all); accounts
        whose busiest day outgrows their partitions are split from then on."""
        report = await sealing.seal(
            self._parts, self.policy, self._clock(), rebuild=rebuild, on_progress=on_progress
        )
        report.splits = await self.layouts().follow(report.busiest)
        return report

    async def verify(self, *, repair: bool = True) -> VerifyReport:
        """Every set balances and is stored whole, the books close, and every block is exact.

        Interrupted writes are completed first (``repair=False`` reports them instead, as
        "claimed, not yet materialised").
        """
        await self._load_policy()
        if repair:
            await self.repair()
        pending = await self._store.unfinished_claims()
        report = await audit.verify(self._parts, self.policy, pending)
        for problem in await self.holds().problems():
            report.problem(problem)
        return report

    async def _gather(self, jobs: Iterable[Awaitable[T]]) -> list[T]:
        return await self._parts.gather(jobs)

    # -- trial balance -------------------------------------------------------------------------

    async def trial_balance(
        self, time_range: TimeRange = TimeRange(), as_of: datetime | None = None, *, per_account: bool = True
    ) -> TrialBalance:
        """Opening, debits, credits and closing over [start, end) of every account, or of every
        LE/NS/NAME/CUR rollup (``per_account=False``: what the grouped levels need, much cheaper),
        from balance blocks where they serve; equal to a full fold of the entries. Beside them,
        what holds kept pending at the end of the range (or ``as_of``, or now if sooner)."""
        now = self._clock()
        held_at = min(t for t in (as_of, time_range.end, now) if t is not None)
        pending = await self.holds().pending(as_of=None if held_at >= now else held_at)
        return await trial.trial_balance(
            self._parts, time_range, as_of, day_of(now), pending, per_account=per_account
        )

    # -- the console's register: filtered entries, reversals -----------------------------------

    async def matching_entries(
        self,
        address: Address,
        where: EntryPredicate,
        time_range: TimeRange = TimeRange(),
        page_size: int = 100,
        token: PageToken | None = None,
        as_of: datetime | None = None,
    ) -> Page[MatchedEntry]:
        """Entries of one account that ``where`` accepts, in ledger order, one page at a time.

        The predicate runs while paging (nothing hidden reaches the caller); each match carries
        the debits and credits of the entries skipped just before it, so a running balance
        stays the account's own.
        """
        key = (address, time_range, as_of)
        cursor = MatchCursor(where, key) if token is None else MatchCursor.from_token(token, where, key)

        def fetch(size: int, inner: PageToken | None) -> Awaitable[Page[Entry]]:
            return self.entries(address, time_range, size, inner, as_of)

        return await cursor.page(page_size, fetch)

    async def reversal_of(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        """The reversal already posted for a transaction, if any (its id derives from the original's)."""
        try:
            return await self.transaction(reversal_id(transaction_id))
        except NotFound:
            return None

    def full_fold(self) -> Engine:
        """This engine with reads that ignore balance blocks and fold every entry (what an unsealed
        ledger costs): the slow obvious path benchmarks and audits compare the fast one with."""
        twin = copy.copy(self)
        twin._parts = self._parts.without_blocks()
        return twin
