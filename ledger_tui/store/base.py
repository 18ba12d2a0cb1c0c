"""The async Store interface every backend implements, and its paging primitives."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from ..domain.model import Address, Entry, RecordedTransaction
from ..domain.timeutil import TimeRange

T = TypeVar("T")

#: Tree levels of the account index: legal_entity > namespace > name > currency > account_id.
TREE_DEPTH = 5


class PageToken:
    """Opaque resume point of a paged read; holds store state that is never shown or logged."""

    __slots__ = ("_state",)

    def __init__(self, state: object) -> None:
        self._state = state

    @property
    def state(self) -> object:
        """The store's private resume state (only the store that made it should read it)."""
        return self._state

    def __repr__(self) -> str:
        return "PageToken(<opaque>)"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the token of the next page (None at the end)."""

    items: list[T]
    next_token: PageToken | None = None


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What a store did with a claim: wrote it now, or found an identical earlier one."""

    transaction: RecordedTransaction
    duplicate: bool


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What the console's header shows about a store: kind and target, never credentials."""

    kind: str
    target: str
    details: dict[str, str] = field(default_factory=dict)


class Store(ABC):
    """Append-only ledger storage: atomic idempotent writes, index reads, paged entry reads."""

    @property
    @abstractmethod
    def info(self) -> StoreInfo:
        """Kind and target for display."""

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; raises StoreUnavailable when the store cannot be reached."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""

    @abstractmethod
    async def apply_schema(self) -> None:
        """Create keyspace/tables if missing; idempotent."""

    @abstractmethod
    async def record(self, transaction: RecordedTransaction) -> RecordOutcome:
        """Write every row of ``transaction`` all-or-nothing, once per transaction id.

        Same id and payload hash as an earlier record: nothing new is written and the earlier
        transaction is returned with ``duplicate=True``. Same id, other payload: raises
        ConflictingResubmission.
        """

    @abstractmethod
    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        """The recorded transaction with all its legs, or None."""

    @abstractmethod
    async def list_children(
        self, parent: tuple[str, ...], page_size: int = 500, token: PageToken | None = None
    ) -> Page[str]:
        """Children of one account-tree node, sorted: () lists legal entities, and so on down."""

    @abstractmethod
    async def list_buckets(self, address: Address) -> list[str]:
        """Every time bucket that holds entries of ``address``, oldest first."""

    @abstractmethod
    async def fetch_bucket(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        limit: int,
        resume: object | None,
    ) -> tuple[list[Entry], object | None]:
        """Up to ``limit`` entries of one partition in ledger order, and where to resume (None: done)."""

    async def read_entries(
        self,
        address: Address,
        buckets: Sequence[str],
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        """Entries of ``address`` in ``buckets`` within ``time_range``, in ledger order, paged.

        Reads one row past the page so a token is only returned when more rows really exist;
        that row travels inside the token, so no partition is read twice.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        cursor = token.state if token is not None else _Cursor(0, None, ())
        assert isinstance(cursor, _Cursor), "page token from another kind of read"
        items = list(cursor.carried)
        index, resume = cursor.bucket_index, cursor.resume
        while len(items) <= page_size and index < len(buckets):
            rows, resume = await self.fetch_bucket(
                address, buckets[index], time_range, page_size + 1 - len(items), resume
            )
            items.extend(rows)
            if resume is None:
                index += 1
        if len(items) > page_size:
            return Page(items[:page_size], PageToken(_Cursor(index, resume, tuple(items[page_size:]))))
        return Page(items)

    @abstractmethod
    async def scan_transactions(
        self, page_size: int = 1000, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        """Every recorded transaction in no particular order (for whole-ledger verification)."""

    async def __aenter__(self) -> Store:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Where a multi-partition read stopped: partition index, store resume state, look-ahead rows."""

    bucket_index: int
    resume: object | None
    carried: tuple[Entry, ...]


def entry_sort_key(entry: Entry) -> tuple[datetime, str, int]:
    """Ledger order inside one account: effective time, then transaction id, then leg."""
    return (entry.effective_at, str(entry.transaction_id), entry.leg_index)
