"""Apache Cassandra store: prepared statements, token-aware routing, retried idempotent calls.

Writes go through ``writes.ClaimWriter`` (logged, grouped claims, then per-partition unlogged
batches; repair completes what a crash interrupted: docs/cassandra-write-path.md). Every call is
retried with backoff on transient failures within the URL's ``retry`` budget (writes) or a short
one (reads), except when too few replicas are up for the consistency level: that fails at once (exit 3).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cassandra.query import BatchStatement, BatchType

from ...domain.blocks import DayBlock, SealPolicy, SealState, node_key
from ...domain.changes import ChangePage
from ...domain.claims import DEFAULT_CLAIM_SHARDS, RecordOutcome, RepairReport, shard_of, window_start
from ...domain.errors import (
    AccessDenied,
    ConflictingResubmission,
    LedgerError,
    NotConfirmed,
    StoreUnavailable,
    ValidationError,
)
from ...domain.holds import Hold, HoldOutcome, Pending
from ...domain.layout import AccountLayout
from ...domain.limits import Head, LimitChange
from ...domain.model import Address, Entry, Movement, RecordedTransaction
from ...domain.paging import Page, PageToken
from ...domain.timeutil import TimeRange, to_epoch_ms
from ..base import Store, StoreInfo
from ..credentials import Credentials
from ..url import CassandraUrl
from .batches import quiet_batch_warnings
from .buckets import BucketReader
from .changes import ChangeReader
from .connection import Connection
from .cql import (
    block_from_row,
    entry_from_row,
    movement_from_row,
    seal_state_from_row,
    transaction_from_row,
)
from .encode import micros
from .hold_rows import is_hold_claim, is_set_claim, set_of_claim
from .holds import CassandraHolds
from .layouts import LayoutBook
from .limits import CassandraLimits
from .marks import MARKS_SETTING, MarkReader, layout_for
from .queues import PostCombiner
from .repair import ClaimRepair
from .rollups import ROLLUP_PARTS_SETTING, RollupReader
from .schema import apply_schema
from .windows import WindowIndex
from .writes import REPAIR_STATE, ClaimWriter, repair_watermark

CLAIM_SHARDS_SETTING = "claim_shards"
#: Counts fixed when a ledger is created: setting, default, a query finding a row laid out by the
#: default (then the ledger was made before the setting, and keeps the default), why it is fixed.
_CLAIM_SHARDS = (CLAIM_SHARDS_SETTING, DEFAULT_CLAIM_SHARDS, "any_claim", "a claim is found by it")
_ROLLUP_PARTS = (ROLLUP_PARTS_SETTING, 1, "any_tree_row", "a rollup's rows are found by it")
_READ_RETRY_S = 2.0
_ALL_ROWS_PAGE = 5000


class CassandraStore(Store):
    """The production store: one session, prepared statements, token- and DC-aware routing."""

    def __init__(self, url: CassandraUrl, credentials: Credentials | None = None) -> None:
        self._url = url
        self._db = Connection(url, credentials)
        self._execute = self._db.execute
        self._execute_write = self._db.execute_write
        self._statement = self._db.statement
        self._page = self._db.page
        self._all_rows = self._db.all_rows
        self._replica_of = self._db.replica_of
        self._shards: int | None = None
        self._parts: int | None = None
        self._consistency = self._db.consistency
        self._serial = self._db.serial
        quiet_batch_warnings()
        self._combiner = PostCombiner(self.record_many)
        self._marks = MarkReader(self._all_rows, self.read_settings)
        self._limits = CassandraLimits(
            self._execute_write, self._statement, self._serial, self, self._claim_shards
        )
        self._layouts = LayoutBook(self._all_rows, self._execute_write, self._statement)
        self._buckets = BucketReader(self._page, self._unpaged)
        self._windows = WindowIndex(
            self._execute_write, self._statement, self.read_settings, self.keep_setting
        )
        self._writer = ClaimWriter(
            self._execute_write,
            self._statement,
            self._claim_shards,
            self._serial,
            self._replica_of,
            self._limits,
            self._windows,
            self._layouts.current,
            self._rollup_parts,
        )
        self._repair = ClaimRepair(
            self._writer,
            self._execute_write,
            self._statement,
            self._claim_shards,
            self._windows,
            self._limits,
        )
        self._rollups = RollupReader(self._page, self._all_rows, self._rollup_parts)
        self._holds = CassandraHolds(
            self._execute_write, self._statement, self._serial, self._claim_shards, self._writer, self._limits
        )
        self._changes = ChangeReader(
            self._execute, self._statement, self._claim_shards, self._holds.stored, self._windows
        )

    @property
    def info(self) -> StoreInfo:
        url = self._url
        return StoreInfo(
            "cassandra",
            f"{','.join(url.hosts)}:{url.port}/{url.keyspace}",
            {"consistency": url.consistency, "serial": url.serial_consistency}
            | ({"tls": "on"} if url.tls else {})
            | self._db.nodes_detail(),
        )

    @property
    def _session(self) -> Any:
        return self._db.session

    def cluster_nodes(self) -> tuple[int, int] | None:
        """(nodes up, nodes known) as the driver sees them, or None before the first connect."""
        nodes: tuple[int, int] | None = self._db.cluster_nodes()
        return nodes

    def use_credentials(self, credentials: Credentials | None) -> None:
        """Credentials for the next connect (the console's prompt); drops the current session."""
        self._db.use_credentials(credentials)

    async def connect(self) -> None:
        """Connect, or reconnect when every host is down (so 'retry' works once a node is back)."""
        await self._db.connect()

    async def close(self) -> None:
        if self._db.cluster is not None:
            await self._writer.settle()
        await self._db.close()

    async def apply_schema(self) -> None:
        tables_before = await apply_schema(self._execute, self._db.cluster, self._url)
        self._db.forget_statements()
        self._shards = self._parts = None
        await self._claim_shards()
        await self._rollup_parts()
        await self.keep_setting(MARKS_SETTING, layout_for(tables_before))  # kept if already set
        self._marks.forget_layout()

    async def record_many(
        self,
        transactions: Sequence[RecordedTransaction],
        policy: SealPolicy,
        complete_duplicates: bool = True,
    ) -> list[RecordOutcome]:
        now = datetime.now(UTC)
        try:
            return await self._writer.write(transactions, policy, complete_duplicates, now)
        except LedgerError as error:
            if isinstance(error, StoreUnavailable | ConflictingResubmission | ValidationError | AccessDenied):
                raise  # raised before any claim (or a refusal): nothing was written
            # Past the log, a claim may have landed: never tell the caller "nothing written".
            raise NotConfirmed(str(error)) from None

    async def record(self, transaction: RecordedTransaction, policy: SealPolicy) -> RecordOutcome:
        outcome = await self._combiner.submit(transaction, policy)
        if outcome.conflicting:
            raise ConflictingResubmission(transaction.transaction_id)
        if outcome.refused is not None:
            raise outcome.refused
        return outcome

    async def repair(self, policy: SealPolicy, now: datetime) -> RepairReport:
        state = await self.read_seal_state(REPAIR_STATE)
        since = state.sealed_through if state is not None else -(2**62)
        report = await self._repair.repair(policy, now, since)
        watermark = repair_watermark(now)
        if watermark > since:
            await self.write_seal_state(REPAIR_STATE, SealState(watermark, now))
        report.repaired_through = window_start(watermark)
        return report

    async def unfinished_claims(self) -> set[uuid.UUID]:
        state = await self.read_seal_state(REPAIR_STATE)
        since = state.sealed_through if state is not None else -(2**62)
        return {txid for _key, ids, _heads, _settles in await self._repair.unfinished(since) for txid in ids}

    # -- limits (docs/limits.md) ---------------------------------------------------------------

    async def read_limit_history(self) -> list[LimitChange]:
        return await self._limits.history()

    async def change_limit(self, change: LimitChange, policy: SealPolicy) -> LimitChange:
        return await self._limits.change(change, await self._claim_shards(), policy)

    async def read_heads(self, accounts: Sequence[Address], at: datetime) -> dict[Address, Head]:
        return await self._limits.read_heads(accounts, at)

    # -- holds (docs/holds.md) ------------------------------------------------------------------

    async def place_hold(self, transaction: RecordedTransaction, expires_at: datetime) -> tuple[Hold, bool]:
        return await self._holds.place(transaction, expires_at)

    async def settle_hold(
        self,
        hold_id: uuid.UUID,
        outcome: HoldOutcome,
        now: datetime,
        capture: RecordedTransaction | None,
        policy: SealPolicy,
    ) -> tuple[Hold, bool]:
        return await self._holds.settle(hold_id, outcome, now, capture, policy)

    async def read_hold(self, hold_id: uuid.UUID) -> Hold | None:
        return await self._holds.read(hold_id)

    async def read_holds(self, open_only: bool = True) -> list[Hold]:
        return await self._holds.read_all(open_only)

    async def read_pending(self, at: datetime) -> dict[Address, Pending]:
        return await self._holds.pending(at)

    async def sweep_holds(self, now: datetime, policy: SealPolicy) -> int:
        return await self._holds.sweep(now, policy)

    async def _unpaged(self, name: str, parameters: tuple[Any, ...]) -> list[Any]:
        """Every row of a prepared query in one answer (one the node must not page: it merges)."""
        bound = (await self._statement(name)).bind(parameters)
        bound.fetch_size = None
        rows: list[Any] = (await self._execute(bound)).rows
        return rows

    async def _claim_shards(self) -> int:
        """The ledger's claim shard count (fixed at creation)."""
        if self._shards is None:
            self._shards = await self._fixed_count(_CLAIM_SHARDS, self._url.claim_shards)
        return self._shards

    async def _rollup_parts(self) -> int:
        """The ledger's rollup parts (fixed at creation; ledgers from before have one)."""
        if self._parts is None:
            self._parts = await self._fixed_count(_ROLLUP_PARTS, self._url.rollup_parts)
        return self._parts

    async def _fixed_count(self, fixed: tuple[str, int, str, str], wanted: int | None) -> int:
        """A count fixed when the ledger is created: a missing setting is fixed now, from the URL
        or the default, but to the default if a row laid out by it exists (a ledger made before
        the setting); naming another count is refused."""
        name, default, laid_out, why = fixed
        value = (await self.read_settings()).get(name)
        if value is None:
            made_before = wanted is not None and (await self._execute(await self._statement(laid_out))).rows
            value = await self.keep_setting(name, str(default if wanted is None or made_before else wanted))
        if wanted is not None and int(value) != wanted:
            raise ValidationError.single(
                f"store.{name}",
                f"this ledger was created with {value} {name.replace('_', ' ')}; the count is fixed at "
                f"creation ({why}): leave {name} out of the URL",
            )
        return int(value)

    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        shard = shard_of(transaction_id, await self._claim_shards())
        result = await self._execute(await self._statement("get_transaction"), (shard, transaction_id))
        if not result.rows:
            return None
        found = transaction_from_row(result.rows[0])
        if is_set_claim(found):
            return found
        return await self._holds.captured(transaction_id) if is_hold_claim(found) else None

    async def list_children(
        self, parent: tuple[str, ...], page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        children, next_token = await self._rollups.children(node_key(parent), page_size, token)
        return Page(children, next_token)

    async def list_buckets(
        self, address: Address, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        months, next_token = await self._buckets.list_buckets(address, page_size, token)
        return Page(months, next_token)

    async def read_bucket(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        rows, next_token = await self._buckets.read("entries", address, bucket, time_range, page_size, token)
        return Page([entry_from_row(row) for row in rows], next_token)

    async def read_layouts(self) -> list[AccountLayout]:
        return await self._layouts.reload()

    async def record_layout(self, change: AccountLayout) -> AccountLayout:
        return await self._layouts.record(change)

    async def scan_transactions(
        self, page_size: int, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        rows, next_token = await self._page("scan_transactions", (), page_size, token)
        return Page([found for row in rows if (found := set_of_claim(row)) is not None], next_token)

    async def read_changes(
        self, cursor: str | None, limit: int, fresh: frozenset[str] | None = None
    ) -> ChangePage:
        await self._writer.settle()  # this process's own done marks first
        return await self._changes.page(cursor, max(1, limit), fresh)

    async def change_cursor_now(self) -> str:
        return await self._changes.now()

    async def read_movements(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Movement]:
        rows, next_token = await self._buckets.read(
            "movements", address, bucket, time_range, page_size, token
        )
        return Page([movement_from_row(row) for row in rows], next_token)

    # -- settings and balance blocks -----------------------------------------------------------

    async def read_settings(self) -> dict[str, str]:
        settings: dict[str, str] = {}
        token: PageToken | None = None
        while True:  # every page: API keys and feed cursors add settings without end
            rows, token = await self._page("settings", (), 1000, token)
            settings.update(rows)
            if token is None:
                return settings

    async def keep_setting(self, name: str, value: str) -> str:
        result = await self._execute(await self._statement("keep_setting"), (name, value))
        row = dict(zip(result.column_names, result.rows[0], strict=True))
        return value if row["[applied]"] else str(row["value"])

    async def replace_setting(self, name: str, old: str, new: str) -> str:
        result = await self._execute(await self._statement("replace_setting"), (new, name, old))
        row = dict(zip(result.column_names, result.rows[0], strict=True))
        return new if row["[applied]"] else str(row.get("value"))

    async def read_seal_state(self, node: str) -> SealState | None:
        rows, _ = await self._page("seal_state", (node,), 1, None)
        return seal_state_from_row(rows[0]) if rows else None

    async def write_seal_state(self, node: str, state: SealState) -> None:
        cutoff = state.cutoff
        parameters = (node, state.sealed_through, to_epoch_ms(cutoff), micros(cutoff))
        await self._execute(await self._statement("write_seal_state"), parameters)

    async def read_blocks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[DayBlock]:
        rows, next_token = await self._page("blocks", (node, first_day, until_day), page_size, token)
        return Page([block_from_row(row) for row in rows], next_token)

    async def write_blocks(self, node: str, blocks: Sequence[DayBlock]) -> None:
        """One single-partition UNLOGGED batch per chunk: atomic per partition, no batch log."""
        statement = await self._statement("write_block")
        for offset in range(0, len(blocks), 100):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED, consistency_level=self._consistency)
            batch.is_idempotent = True
            for block in blocks[offset : offset + 100]:
                cutoff = block.cutoff
                batch.add(
                    statement,
                    (node, block.day, block.debits, block.credits, block.entries, to_epoch_ms(cutoff),
                     micros(cutoff)),
                )  # fmt: skip
            await self._execute(batch)

    async def read_marks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[tuple[int, datetime]]:
        return await self._marks.read(node, first_day, until_day, page_size, token)

    async def read_day_activity(
        self, node: str, day: int, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        accounts, next_token = await self._rollups.day_activity(node, day, page_size, token)
        return Page(accounts, next_token)

    async def read_future_activity(self, node: str, first_day: int, until_day: int) -> list[tuple[int, str]]:
        return await self._rollups.future_activity(node, first_day, until_day)
