"""Apache Cassandra store: prepared statements, LWT idempotency claim, logged-batch writes.

Writes: claim the transaction id with ``INSERT ... IF NOT EXISTS`` (Paxos), then write every
entry and index row in one LOGGED batch (all-or-nothing across partitions). A retry that finds
its own claim re-applies the identical batch, so a crash between claim and batch heals itself
and a retried submission is still stored exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cassandra import ConsistencyLevel, DriverException, InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, BatchType, PreparedStatement, tuple_factory

from ..domain.blocks import DayBlock, SealPolicy, SealState, node_key
from ..domain.errors import ConflictingResubmission, LedgerError, StoreUnavailable
from ..domain.materialise import Materialisation, materialise
from ..domain.model import Address, Entry, Movement, RecordedTransaction
from ..domain.paging import Page, PageToken
from ..domain.timeutil import MAX_EPOCH_MS, TimeRange, bucket_of, from_epoch_ms, to_epoch_ms
from . import aio
from .base import RecordOutcome, Store, StoreInfo
from .cassandra_cql import (
    STATEMENTS,
    block_from_row,
    entry_from_row,
    movement_from_row,
    schema_statements,
    seal_state_from_row,
    transaction_from_row,
)
from .url import CassandraUrl

_TRANSIENT = (NoHostAvailable, DriverException, OSError)
_INDEX_CACHE_LIMIT = 200_000


def _exact(moment: datetime) -> datetime:
    """A driver-decoded timestamp (naive UTC, through a float) back to exact milliseconds."""
    return from_epoch_ms(round((moment - datetime(1970, 1, 1)) / timedelta(milliseconds=1)))


def _micros(moment: datetime) -> int:
    """A write timestamp (microseconds) that orders derived rows by the time they describe."""
    return to_epoch_ms(moment) * 1000


def _unavailable(error: BaseException) -> StoreUnavailable:
    text = str(error).splitlines()[0] if str(error) else ""
    return StoreUnavailable(f"Cassandra did not answer ({type(error).__name__}): {text[:300]}")


class CassandraStore(Store):
    """The production store: one session, prepared statements, token- and DC-aware routing."""

    def __init__(self, url: CassandraUrl) -> None:
        self._url = url
        self._cluster: Cluster | None = None
        self._session: Any = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._prepare_lock = asyncio.Lock()
        self._known_index: set[tuple[Any, ...]] = set()
        self._consistency = ConsistencyLevel.name_to_value[url.consistency]
        self._serial = ConsistencyLevel.name_to_value[url.serial_consistency]

    @property
    def info(self) -> StoreInfo:
        url = self._url
        return StoreInfo(
            "cassandra",
            f"{','.join(url.hosts)}:{url.port}/{url.keyspace}",
            {"consistency": url.consistency, "serial": url.serial_consistency},
        )

    async def connect(self) -> None:
        """Connect, or reconnect when every host is down (so 'retry' works once a node is back)."""
        if self._session is not None:
            if not self._all_hosts_down():
                return
            await self.close()
        url = self._url
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=url.local_dc)),
            consistency_level=self._consistency,
            serial_consistency_level=self._serial,
            request_timeout=url.timeout_s,
            row_factory=tuple_factory,
        )
        cluster = Cluster(
            contact_points=list(url.hosts),
            port=url.port,
            protocol_version=5,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=min(url.timeout_s, 5),
            control_connection_timeout=url.timeout_s,
            # The default backoff grows to 10 minutes; an operator waiting on a node wants seconds.
            reconnection_policy=ExponentialReconnectionPolicy(0.5, 5.0),
        )
        try:
            self._session = await asyncio.to_thread(cluster.connect)
        except _TRANSIENT as error:
            await asyncio.to_thread(cluster.shutdown)
            raise _unavailable(error) from None
        self._cluster = cluster

    def _all_hosts_down(self) -> bool:
        hosts = [] if self._cluster is None else self._cluster.metadata.all_hosts()
        return not any(host.is_up for host in hosts)

    async def close(self) -> None:
        cluster, self._cluster, self._session = self._cluster, None, None
        self._prepared.clear()
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)

    async def _execute(self, statement: Any, parameters: Any = None, **options: Any) -> aio.Result:
        if self._session is None:
            raise StoreUnavailable("not connected to Cassandra")
        try:
            return await aio.execute(self._session, statement, parameters, **options)
        except InvalidRequest as error:
            raise LedgerError(f"Cassandra rejected the request: {str(error)[:300]}") from None
        except _TRANSIENT as error:
            raise _unavailable(error) from None

    async def _statement(self, name: str) -> PreparedStatement:
        prepared = self._prepared.get(name)
        if prepared is not None:
            return prepared
        async with self._prepare_lock:
            if self._session is None:
                raise StoreUnavailable("not connected to Cassandra")
            if name not in self._prepared:
                keyspace = self._url.keyspace
                query = STATEMENTS[name].replace("{ks}", keyspace)  # a validated identifier
                try:
                    self._prepared[name] = await asyncio.to_thread(self._session.prepare, query)
                except InvalidRequest as error:
                    raise LedgerError(
                        f"the ledger schema is missing in keyspace {keyspace!r} "
                        f"(run: ledger-tui schema apply): {error}"
                    ) from None
                except _TRANSIENT as error:
                    raise _unavailable(error) from None
        return self._prepared[name]

    async def apply_schema(self) -> None:
        url = self._url
        dc = url.local_dc or await self._local_dc()
        for ddl in schema_statements(url.keyspace, dc, url.replication):
            await self._execute(ddl)
        self._prepared.clear()

    async def _local_dc(self) -> str:
        result = await self._execute("SELECT data_center FROM system.local")
        return str(result.rows[0][0])

    async def record(self, transaction: RecordedTransaction, policy: SealPolicy) -> RecordOutcome:
        claim = await self._execute(
            await self._statement("claim"),
            (
                transaction.transaction_id,
                transaction.payload_hash,
                transaction.legs_json(),
                len(transaction.legs),
                to_epoch_ms(transaction.recorded_at),
            ),
        )
        row = dict(zip(claim.column_names, claim.rows[0], strict=True))
        if row["[applied]"]:
            await self._write_rows(materialise([transaction], policy))
            return RecordOutcome(transaction, duplicate=False)
        earlier = RecordedTransaction(
            transaction_id=row["transaction_id"],
            legs=RecordedTransaction.legs_from_json(row["legs"]),
            payload_hash=row["payload_hash"],
            recorded_at=_exact(row["recorded_at"]),
        )
        if earlier.payload_hash != transaction.payload_hash:
            raise ConflictingResubmission(transaction.transaction_id)
        # The claim may have outlived a batch that never landed: re-applying the identical rows
        # is a no-op when it did land and completes the write when it did not.
        await self._write_rows(materialise([earlier], policy), use_cache=False)
        return RecordOutcome(earlier, duplicate=True)

    async def _write_rows(self, rows: Materialisation, use_cache: bool = True) -> None:
        """One LOGGED batch: all or nothing across partitions. Index rows already written by
        this process are left out (they are identical and immutable)."""
        batch = BatchStatement(batch_type=BatchType.LOGGED, consistency_level=self._consistency)
        insert_entry = await self._statement("insert_entry")
        for entry in rows.entries:
            batch.add(
                insert_entry,
                (
                    *entry.address.as_tuple(),
                    bucket_of(entry.effective_at),
                    to_epoch_ms(entry.effective_at),
                    entry.transaction_id,
                    entry.leg_index,
                    entry.side.value,
                    entry.amount,
                    entry.description,
                    to_epoch_ms(entry.recorded_at),
                ),
            )
        index_rows: list[tuple[Any, ...]] = [("insert_tree", *row) for row in rows.tree]
        index_rows += [("insert_bucket", *address.as_tuple(), bucket) for address, bucket in rows.buckets]
        index_rows += [("insert_activity", *row) for row in rows.activity]
        index_rows += [("insert_future", *row) for row in rows.future]
        fresh = [key for key in index_rows if not use_cache or key not in self._known_index]
        for key in fresh:
            batch.add(await self._statement(key[0]), key[1:])
        insert_mark = await self._statement("insert_mark")
        for (node, day), recorded_at in rows.marks.items():
            batch.add(insert_mark, (node, day, to_epoch_ms(recorded_at), _micros(recorded_at)))
        await self._execute(batch)
        if len(self._known_index) > _INDEX_CACHE_LIMIT:
            self._known_index.clear()
        self._known_index.update(fresh)  # only after the batch landed

    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        result = await self._execute(await self._statement("get_transaction"), (transaction_id,))
        return transaction_from_row(result.rows[0]) if result.rows else None

    async def _page(
        self, name: str, parameters: tuple[Any, ...], page_size: int, token: PageToken | None
    ) -> tuple[list[Any], PageToken | None]:
        """One page of a prepared query; the driver's paging state becomes the next token."""
        bound = (await self._statement(name)).bind(parameters)
        bound.fetch_size = page_size
        paging_state = None if token is None else token.state
        result = await self._execute(bound, paging_state=paging_state)
        state = result.paging_state
        return result.rows, None if state is None else PageToken(state)

    async def list_children(
        self, parent: tuple[str, ...], page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._page("children", (node_key(parent),), page_size, token)
        return Page([row[0] for row in rows], next_token)

    async def list_buckets(
        self, address: Address, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._page("buckets", address.as_tuple(), page_size, token)
        return Page([row[0] for row in rows], next_token)

    async def read_bucket(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Entry]:
        parameters = _partition_range(address, bucket, time_range)
        rows, next_token = await self._page("entries", parameters, page_size, token)
        return Page([entry_from_row(row) for row in rows], next_token)

    async def scan_transactions(
        self, page_size: int, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        rows, next_token = await self._page("scan_transactions", (), page_size, token)
        return Page([transaction_from_row(row) for row in rows], next_token)

    async def read_movements(
        self,
        address: Address,
        bucket: str,
        time_range: TimeRange,
        page_size: int,
        token: PageToken | None = None,
    ) -> Page[Movement]:
        parameters = _partition_range(address, bucket, time_range)
        rows, next_token = await self._page("movements", parameters, page_size, token)
        return Page([movement_from_row(row) for row in rows], next_token)

    # -- settings and balance blocks -----------------------------------------------------------

    async def read_settings(self) -> dict[str, str]:
        rows, _ = await self._page("settings", (), 1000, None)
        return {name: value for name, value in rows}

    async def keep_setting(self, name: str, value: str) -> str:
        result = await self._execute(await self._statement("keep_setting"), (name, value))
        row = dict(zip(result.column_names, result.rows[0], strict=True))
        return value if row["[applied]"] else str(row["value"])

    async def read_seal_state(self, node: str) -> SealState | None:
        rows, _ = await self._page("seal_state", (node,), 1, None)
        return seal_state_from_row(rows[0]) if rows else None

    async def write_seal_state(self, node: str, state: SealState) -> None:
        cutoff = state.cutoff
        parameters = (node, state.sealed_through, to_epoch_ms(cutoff), _micros(cutoff))
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
            for block in blocks[offset : offset + 100]:
                cutoff = block.cutoff
                batch.add(
                    statement,
                    (node, block.day, block.debits, block.credits, block.entries, to_epoch_ms(cutoff),
                     _micros(cutoff)),
                )  # fmt: skip
            await self._execute(batch)

    async def read_marks(
        self, node: str, first_day: int, until_day: int, page_size: int, token: PageToken | None = None
    ) -> Page[tuple[int, datetime]]:
        rows, next_token = await self._page("marks", (node, first_day, until_day), page_size, token)
        return Page([(day, from_epoch_ms(ms)) for day, ms in rows], next_token)

    async def read_day_activity(
        self, node: str, day: int, page_size: int, token: PageToken | None = None
    ) -> Page[str]:
        rows, next_token = await self._page("day_activity", (node, day), page_size, token)
        return Page([row[0] for row in rows], next_token)

    async def read_future_activity(self, node: str, first_day: int, until_day: int) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        token: PageToken | None = None
        while True:  # a small partition: only entries dated beyond the day after their recording
            rows, token = await self._page("future_activity", (node, first_day, until_day), 1000, token)
            found.extend((day, account) for day, account in rows)
            if token is None:
                return found


def _partition_range(address: Address, bucket: str, time_range: TimeRange) -> tuple[object, ...]:
    """Bind values for one partition's entries in ``[start, end)`` (open ends: the whole bucket)."""
    start_ms = 0 if time_range.start is None else to_epoch_ms(time_range.start)
    end_ms = MAX_EPOCH_MS + 1 if time_range.end is None else to_epoch_ms(time_range.end)
    return (*address.as_tuple(), bucket, start_ms, end_ms)
