"""The async Store interface every backend implements: atomic writes and partition primitives.

A store knows rows and partitions, not rules: it reads one page of one partition (or one
level of the account index) at a time. Cursors that span partitions, folds and validation
belong to the engine and the domain, so both stores are held to one contract.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.blocks import DayBlock, SealPolicy, SealState
from ..domain.changes import ChangePage
from ..domain.claims import RecordOutcome, RepairReport
from ..domain.errors import ConflictingResubmission, LedgerError
from ..domain.holds import Hold, HoldOutcome, Pending
from ..domain.layout import LAYOUT_SETTING, AccountLayout, layout_from_setting, layout_setting
from ..domain.limits import Head, LimitChange
from ..domain.model import Address, Entry, Movement, RecordedTransaction
from ..domain.paging import Page, PageToken
from ..domain.timeutil import TimeRange
from .credentials import Credentials


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What the console's header shows about a store: kind and target, never credentials."""

    kind: str
    target: str
    details: dict[str, str] = field(default_factory=dict)


class Store(ABC):
    """Append-only ledger storage: atomic idempotent writes, index reads, paged partition reads."""

    @property
    @abstractmethod
    def info(self) -> StoreInfo:
        """Kind and target for display."""

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; raises StoreUnavailable when the store cannot be reached.

        An embedded store also creates its schema here (it has no operator to ask).
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""

    def cluster_nodes(self) -> tuple[int, int] | None:
        """(nodes up, nodes known) of a clustered store; None for an embedded one."""
        return None

    def use_credentials(self, credentials: Credentials | None) -> None:
        """Credentials for the next connect; an embedded store takes none."""
        raise LedgerError(f"a {self.info.kind} store takes no username or password")

    @abstractmethod
    async def apply_schema(self) -> None:
        """Create keyspace/tables if missing; idempotent."""

    @abstractmethod
    async def read_settings(self) -> dict[str, str]:
        """The ledger's settings (fixed at creation, e.g. the seal horizon)."""

    @abstractmethod
    async def keep_setting(self, name: str, value: str) -> str:
        """Store ``value`` unless the setting exists; returns the value that is stored."""

    @abstractmethod
    async def replace_setting(self, name: str, old: str, new: str) -> str:
        """Set ``new`` where the setting holds ``old`` (compare and set); returns the value stored."""

    @abstractmethod
    async def record_many(
        self,
        transactions: Sequence[RecordedTransaction],
        policy: SealPolicy,
        complete_duplicates: bool = True,
    ) -> list[RecordOutcome]:
        """Claim and write many transactions at once, each whole and at most once per id; one
        outcome each, in order. Once this returns, every row (``materialise([t], policy)``) is written.

        An id already claimed with the same payload is a duplicate (rows a crash left unwritten are
        completed, unless ``complete_duplicates=False``: an importer that ran ``repair`` first knows
        they are whole); with another payload it is conflicting and nothing is written for it."""

    async def record(self, transaction: RecordedTransaction, policy: SealPolicy) -> RecordOutcome:
        """Claim and write one transaction; raises ConflictingResubmission for a reused id."""
        outcome = (await self.record_many([transaction], policy))[0]
        if outcome.conflicting:
            raise ConflictingResubmission(transaction.transaction_id)
        if outcome.refused is not None:
            raise outcome.refused
        return outcome

    async def repair(self, policy: SealPolicy, now: datetime) -> RepairReport:
        """Complete every set claimed but not yet written whole (a store whose writes are
        atomic has none)."""
        return RepairReport()

    async def unfinished_claims(self) -> set[uuid.UUID]:
        """Ids claimed by writes not known to have finished (what ``repair`` would complete)."""
        return set()

    # -- account layouts (docs/scale.md) --------------------------------------------------------

    async def read_layouts(self) -> list[AccountLayout]:
        """Every account layout change (how split accounts' entries are partitioned).

        A store without partitions keeps them as settings, where they change nothing."""
        return [
            layout_from_setting(name, value)
            for name, value in (await self.read_settings()).items()
            if name.startswith(LAYOUT_SETTING)
        ]

    async def record_layout(self, change: AccountLayout) -> AccountLayout:
        """Record a layout change (one already recorded for that account and time is kept)."""
        name, value = layout_setting(change)
        kept = await self.keep_setting(name, value)
        return layout_from_setting(name, kept)

    # -- limits (docs/limits.md) ---------------------------------------------------------------

    async def read_limit_history(self) -> list[LimitChange]:
        """Every limit change, oldest first (a store without limits has none)."""
        return []

    async def change_limit(self, change: LimitChange, policy: SealPolicy) -> LimitChange:
        """Record a limit change; from then on every write on this ledger enforces it."""
        raise LedgerError(
            f"account limits are not enforced on a {self.info.kind} store yet: "
            "set them on an embedded (sqlite) ledger (docs/limits.md)"
        )

    async def read_heads(self, accounts: Sequence[Address], at: datetime) -> dict[Address, Head]:
        """Balance and pending totals (holds pending ``at``) of those of ``accounts`` a limit bounds."""
        return {}

    # -- holds (docs/holds.md) ------------------------------------------------------------------

    def _no_holds(self) -> LedgerError:
        return LedgerError(f"holds are not supported on a {self.info.kind} store yet (docs/holds.md)")

    async def place_hold(self, transaction: RecordedTransaction, expires_at: datetime) -> tuple[Hold, bool]:
        """Hold a set until ``expires_at``: (the hold, whether it was placed before); an id taken
        by a set or by a hold of other legs is ConflictingResubmission, a broken bound LimitExceeded."""
        raise self._no_holds()

    async def settle_hold(
        self,
        hold_id: uuid.UUID,
        outcome: HoldOutcome,
        now: datetime,
        capture: RecordedTransaction | None,
        policy: SealPolicy,
    ) -> tuple[Hold, bool]:
        """Give a hold its one outcome (a capture records ``capture`` under the hold's id):
        (the hold, whether it had this outcome already); another outcome is HoldRefused."""
        raise self._no_holds()

    async def restore_holds_and_limits(self, every: Sequence[Hold], history: Sequence[LimitChange]) -> int:
        """Record a dump's holds (with their outcomes) and limit history after its sets; how many
        holds and changes were new (a rerun adds none)."""
        if every or history:
            raise LedgerError(
                f"holds and limits cannot be restored into a {self.info.kind} store yet: "
                "restore them into an embedded (sqlite) ledger"
            )
        return 0

    async def read_hold(self, hold_id: uuid.UUID) -> Hold | None:
        """A hold and its outcome, or None."""
        return None

    async def read_holds(self, open_only: bool = True) -> list[Hold]:
        """Holds oldest first: those with no outcome recorded yet, or (``open_only=False``) all."""
        return []

    async def read_pending(self, at: datetime) -> dict[Address, Pending]:
        """Pending debits and credits per account of the holds pending at ``at`` (a recent instant)."""
        return {}

    async def sweep_holds(self, now: datetime, policy: SealPolicy) -> int:
        """Record every hold past its expiry as expired (and complete outcomes cut short, their
        rows made by ``policy``); how many expiries."""
        return 0

    @abstractmethod
    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        """The recorded transaction with all its legs, or None."""

    @abstractmethod
    async def list_children(
        self, parent: tuple[str, ...], page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        """One page of the children of an account-tree node, sorted: () lists legal entities."""

    @abstractmethod
    async def list_buckets(
        self, address: Address, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        """One page of the time buckets that hold entries of ``address``, oldest first."""

    @abstractmethod
    async def read_bucket(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        """One page of one partition's entries within ``time_range``, in ledger order."""

    @abstractmethod
    async def read_movements(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Movement]:
        """Like ``read_bucket`` but only what a fold needs (no Entry objects: cheap at volume)."""

    # -- balance blocks (derived rows; see docs/balance-blocks.md) ------------------------------

    @abstractmethod
    async def read_seal_state(self, node: str) -> SealState | None:
        """How far ``node`` is sealed, or None if it never was."""

    @abstractmethod
    async def write_seal_state(self, node: str, state: SealState) -> None:
        """Record a seal run's progress (a state with an earlier cutoff never replaces a later one)."""

    @abstractmethod
    async def read_blocks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[DayBlock]:
        """One page of ``node``'s blocks for days in [first_day, until_day), by day."""

    @abstractmethod
    async def write_blocks(self, node: str, blocks: Sequence[DayBlock]) -> None:
        """Store sealed days (a block with an earlier cutoff never replaces a later one)."""

    @abstractmethod
    async def read_marks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[tuple[int, datetime]]:
        """One page of (day, latest late recorded time) of ``node`` in [first_day, until_day)."""

    @abstractmethod
    async def read_day_activity(
        self, node: str, day: int, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        """One page of the account ids under rollup ``node`` with entries on ``day``."""

    @abstractmethod
    async def read_future_activity(self, node: str, first_day: int, until_day: int) -> list[tuple[int, str]]:
        """(day, account id) under rollup ``node`` with future-dated entries in [first_day, until_day)."""

    @abstractmethod
    async def scan_transactions(
        self, page_size: int, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        """One page of every recorded transaction, in no particular order (for verify)."""

    # -- the change feed (docs/events.md) --------------------------------------------------------

    @abstractmethod
    async def read_changes(
        self, cursor: str | None, limit: int, fresh: frozenset[str] | None = None
    ) -> ChangePage:
        """Committed sets after ``cursor`` (None: from the first), in commit order, at most about
        ``limit`` of them. A store that can only place a write once it has settled answers
        the settled ones, and when given ``fresh`` (the page's ``fresh`` tokens of the read
        before, at first empty) also newer ones beyond the page's cursor, except those the
        tokens say were given already (a follower sees them sooner, each once). A cursor this
        store did not issue is a ValidationError naming the field ``cursor``."""

    @abstractmethod
    async def change_cursor_now(self) -> str:
        """A cursor after everything committed so far (to follow only what comes next)."""

    async def __aenter__(self) -> Store:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
