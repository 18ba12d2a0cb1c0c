"""Apache Cassandra store: prepared statements, LWT idempotency claim, logged-batch writes.

Writes: claim the transaction id with ``INSERT ... IF NOT EXISTS`` (Paxos), then write every
entry and index row in one LOGGED batch (all-or-nothing across partitions). A retry that finds
its own claim re-applies the identical batch, so a crash between claim and batch heals itself
and a retried submission is still stored exactly once.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from cassandra import ConsistencyLevel, DriverException, InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy
from cassandra.query import BatchStatement, BatchType, PreparedStatement, tuple_factory

from ..domain.errors import ConflictingResubmission, LedgerError, StoreUnavailable
from ..domain.model import Address, Entry, RecordedTransaction, Side
from ..domain.paging import Page, PageToken
from ..domain.timeutil import MAX_EPOCH_MS, TimeRange, bucket_of, from_epoch_ms, to_epoch_ms
from . import aio
from .base import RecordOutcome, Store, StoreInfo
from .rows import ENTRY_COLUMNS, parent_key, tree_rows
from .url import CassandraUrl

_ADDRESS_WHERE = "legal_entity = ? AND namespace = ? AND name = ? AND currency = ? AND account_id = ?"
STATEMENTS = {
    "claim": "INSERT INTO {ks}.transactions (transaction_id, payload_hash, legs, leg_count, recorded_at) "
    "VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
    "get_transaction": "SELECT transaction_id, payload_hash, legs, recorded_at FROM {ks}.transactions "
    "WHERE transaction_id = ?",
    "scan_transactions": "SELECT transaction_id, payload_hash, legs, recorded_at FROM {ks}.transactions",
    "insert_entry": f"INSERT INTO {{ks}}.ledger_entries ({ENTRY_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "insert_tree": "INSERT INTO {ks}.account_tree (parent, child) VALUES (?, ?)",
    "insert_bucket": "INSERT INTO {ks}.account_buckets "
    "(legal_entity, namespace, name, currency, account_id, time_bucket) VALUES (?, ?, ?, ?, ?, ?)",
    "children": "SELECT child FROM {ks}.account_tree WHERE parent = ?",
    "buckets": f"SELECT time_bucket FROM {{ks}}.account_buckets WHERE {_ADDRESS_WHERE}",
    "entries": f"SELECT {ENTRY_COLUMNS} FROM {{ks}}.ledger_entries WHERE {_ADDRESS_WHERE} "
    "AND time_bucket = ? AND effective_at >= ? AND effective_at < ?",
}
_TRANSIENT = (NoHostAvailable, DriverException, OSError)
_INDEX_CACHE_LIMIT = 200_000
_EPOCH_NAIVE = datetime(1970, 1, 1)


def _utc(moment: datetime) -> datetime:
    """Driver timestamps are naive UTC decoded through float: round back to exact ms."""
    return from_epoch_ms(round((moment - _EPOCH_NAIVE) / timedelta(milliseconds=1)))


def _unavailable(error: BaseException) -> StoreUnavailable:
    text = str(error).splitlines()[0] if str(error) else ""
    return StoreUnavailable(f"Cassandra did not answer ({type(error).__name__}): {text[:300]}")


def _entry_from_row(row: tuple[Any, ...]) -> Entry:
    le, ns, name, cur, acct, _bucket, eff, txid, leg, side, amount, desc, rec = row
    return Entry(
        address=Address(le, ns, name, cur, acct),
        side=Side(side),
        amount=amount,
        description=desc or "",
        effective_at=_utc(eff),
        transaction_id=txid,
        leg_index=leg,
        recorded_at=_utc(rec),
    )


def _transaction_from_row(row: tuple[Any, ...]) -> RecordedTransaction:
    txid, payload_hash, legs, recorded_at = row
    return RecordedTransaction(
        transaction_id=txid,
        legs=RecordedTransaction.legs_from_json(legs),
        payload_hash=payload_hash,
        recorded_at=_utc(recorded_at),
    )


def schema_statements(keyspace: str, dc: str, replication: int) -> list[str]:
    """DDL of schema.cql for ``keyspace``: its own CREATE KEYSPACE, then the qualified tables.

    DDL cannot be prepared; the keyspace and data-centre names were validated by the URL parser.
    """
    text = resources.files(__package__).joinpath("schema.cql").read_text()
    text = re.sub(r"--[^\n]*", "", text)
    statements = [part.strip() for part in text.split(";") if part.strip()]
    tables = [s for s in statements if s.upper().startswith("CREATE TABLE IF NOT EXISTS ")]
    prefix = len("CREATE TABLE IF NOT EXISTS ")
    return [
        "CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = "
        "{'class': 'NetworkTopologyStrategy', '" + dc + "': " + str(replication) + "}",
        *("CREATE TABLE IF NOT EXISTS " + keyspace + "." + s[prefix:] for s in tables),
    ]


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

    async def record(self, transaction: RecordedTransaction) -> RecordOutcome:
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
            await self._write_rows(transaction)
            return RecordOutcome(transaction, duplicate=False)
        earlier = RecordedTransaction(
            transaction_id=row["transaction_id"],
            legs=RecordedTransaction.legs_from_json(row["legs"]),
            payload_hash=row["payload_hash"],
            recorded_at=_utc(row["recorded_at"]),
        )
        if earlier.payload_hash != transaction.payload_hash:
            raise ConflictingResubmission(transaction.transaction_id)
        # The claim may have outlived a batch that never landed: re-applying the identical rows
        # is a no-op when it did land and completes the write when it did not.
        await self._write_rows(earlier, use_cache=False)
        return RecordOutcome(earlier, duplicate=True)

    async def _write_rows(self, transaction: RecordedTransaction, use_cache: bool = True) -> None:
        insert_entry = await self._statement("insert_entry")
        insert_tree = await self._statement("insert_tree")
        insert_bucket = await self._statement("insert_bucket")
        batch = BatchStatement(batch_type=BatchType.LOGGED, consistency_level=self._consistency)
        entries = transaction.entries()
        for entry in entries:
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
        index_rows: list[tuple[Any, ...]] = [
            ("tree", key, child) for key, child in tree_rows(e.address for e in entries)
        ]
        index_rows += list({("bucket", *e.address.as_tuple(), bucket_of(e.effective_at)) for e in entries})
        fresh = [key for key in index_rows if not use_cache or key not in self._known_index]
        for key in fresh:
            batch.add(insert_tree if key[0] == "tree" else insert_bucket, key[1:])
        await self._execute(batch)
        if len(self._known_index) > _INDEX_CACHE_LIMIT:
            self._known_index.clear()
        self._known_index.update(fresh)  # only after the batch landed

    async def get_transaction(self, transaction_id: uuid.UUID) -> RecordedTransaction | None:
        result = await self._execute(await self._statement("get_transaction"), (transaction_id,))
        return _transaction_from_row(result.rows[0]) if result.rows else None

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
        rows, next_token = await self._page("children", (parent_key(parent),), page_size, token)
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
        start_ms = 0 if time_range.start is None else to_epoch_ms(time_range.start)
        end_ms = MAX_EPOCH_MS + 1 if time_range.end is None else to_epoch_ms(time_range.end)
        parameters = (*address.as_tuple(), bucket, start_ms, end_ms)
        rows, next_token = await self._page("entries", parameters, page_size, token)
        return Page([_entry_from_row(row) for row in rows], next_token)

    async def scan_transactions(
        self, page_size: int, token: PageToken | None = None
    ) -> Page[RecordedTransaction]:
        rows, next_token = await self._page("scan_transactions", (), page_size, token)
        return Page([_transaction_from_row(row) for row in rows], next_token)
