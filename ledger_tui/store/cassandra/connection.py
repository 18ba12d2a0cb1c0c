"""One Cassandra connection of a store: connect and reconnect, prepared statements, and every
call retried within its budget (reads briefly, writes for the URL's budget).

Why apart from the store: the store says what the ledger reads and writes; this says how a call
reaches the cluster (token routing, fail fast when too few replicas are up, retries of
idempotent statements), in one place every part of the store shares.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from cassandra import AuthenticationFailed, ConsistencyLevel, InvalidRequest, Unavailable
from cassandra.cluster import Cluster
from cassandra.query import PreparedStatement

from ...domain.errors import LedgerError, StoreUnavailable
from ...domain.paging import PageToken
from ..credentials import Credentials
from ..url import CassandraUrl
from . import aio
from .cql import STATEMENTS
from .errors import REQUEST_FAILURES, TRANSIENT, failure, refusal
from .session import connect_failure, new_cluster, prepare_all, replicas_short

_READ_RETRY_S = 2.0
_ALL_ROWS_PAGE = 5000


class Connection:
    """A session to the cluster of one ledger URL, opened on demand."""

    def __init__(self, url: CassandraUrl, credentials: Credentials | None) -> None:
        self._url = url
        self._credentials = credentials
        self._cluster: Cluster | None = None
        self._session: Any = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._prepare_lock = asyncio.Lock()
        self.consistency = ConsistencyLevel.name_to_value[url.consistency]
        self.serial: int = ConsistencyLevel.name_to_value[url.serial_consistency]

    @property
    def session(self) -> Any:
        """The driver session (None before connect)."""
        return self._session

    @property
    def cluster(self) -> Cluster | None:
        """The driver cluster (None before connect)."""
        return self._cluster

    def forget_statements(self) -> None:
        """Prepare every statement again on next use (after the schema changed)."""
        self._prepared.clear()

    def nodes_detail(self) -> dict[str, str]:
        nodes = self.cluster_nodes()
        return {} if nodes is None else {"nodes": f"{nodes[0]}/{nodes[1]} up"}

    def cluster_nodes(self) -> tuple[int, int] | None:
        """(nodes up, nodes known) as the driver sees them, or None before the first connect."""
        if self._cluster is None:
            return None
        hosts = self._cluster.metadata.all_hosts()
        return sum(1 for host in hosts if host.is_up), len(hosts)

    def use_credentials(self, credentials: Credentials | None) -> None:
        """Credentials for the next connect (the console's prompt); drops the current session."""
        self._credentials = credentials
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster, self._session = None, None
        self._prepared.clear()

    async def connect(self) -> None:
        """Connect, or reconnect when every host is down (so 'retry' works once a node is back)."""
        if self._session is not None:
            if not self.all_hosts_down():
                return
            await self.close()
        url = self._url
        credentials = self._credentials
        try:  # the constructor resolves the contact points
            cluster = new_cluster(url, credentials, self.consistency, self.serial)
        except TRANSIENT as error:
            raise failure(error) from None
        try:
            self._session = await asyncio.to_thread(cluster.connect)
        except (*TRANSIENT, AuthenticationFailed) as error:
            await asyncio.to_thread(cluster.shutdown)
            raise connect_failure(error, url, credentials) from None
        self._cluster = cluster

    def all_hosts_down(self) -> bool:
        hosts = [] if self._cluster is None else self._cluster.metadata.all_hosts()
        return not any(host.is_up for host in hosts)

    async def close(self) -> None:
        """Shut the session down (a later call connects again)."""
        cluster, self._cluster, self._session = self._cluster, None, None
        self._prepared.clear()
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)

    async def execute(self, statement: Any, parameters: Any = None, **options: Any) -> aio.Result:
        """Run a read (or DDL): transient failures are retried briefly (a screen waits on it)."""
        return await self._retrying(_READ_RETRY_S, statement, parameters, options)

    async def execute_write(
        self, statement: Any, parameters: Any = None, *, within: float | None = None, **options: Any
    ) -> aio.Result:
        """Run a write: every write is idempotent (identical immutable rows, timestamped map
        entries, or a claim whose second attempt finds the first), so transient failures are
        retried for the URL's budget (no try starts after ``within`` seconds, when given); too
        few replicas alive is not retried (the coordinator did not try: fail fast)."""
        budget = self._url.retry_s if within is None else min(self._url.retry_s, within)
        return await self._retrying(budget, statement, parameters, options)

    async def _retrying(
        self, budget: float, statement: Any, parameters: Any, options: dict[str, Any]
    ) -> aio.Result:
        if self._session is None:
            raise StoreUnavailable("not connected to Cassandra")
        if isinstance(statement, PreparedStatement):  # bound here so its partition is known
            statement, parameters = statement.bind(parameters or ()), None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        delay = 0.05
        while True:
            try:
                short = replicas_short(self._cluster, self._url, statement, self.consistency)
                if short is not None:
                    raise Unavailable(
                        "too few replicas up", alive_replicas=short[0], required_replicas=short[1]
                    )
                return await aio.execute(self._session, statement, parameters, **options)
            except REQUEST_FAILURES as error:
                refused = refusal(error)
                if refused is not None:
                    raise refused from None
                if loop.time() + delay > deadline:
                    raise failure(error) from None
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)

    async def statement(self, name: str) -> PreparedStatement:
        """A prepared statement; the first call prepares every statement of the store at once,
        so none is prepared in the middle of a fault (a prepare is not speculated and waits for
        its node: a paused one held every writer for the full timeout)."""
        prepared = self._prepared.get(name)
        if prepared is not None:
            return prepared
        async with self._prepare_lock:
            if self._session is None:
                raise StoreUnavailable("not connected to Cassandra")
            if name not in self._prepared:
                keyspace = self._url.keyspace
                try:
                    self._prepared.update(await prepare_all(self._session, keyspace, STATEMENTS))
                except InvalidRequest as error:
                    raise LedgerError(
                        f"the ledger schema is missing in keyspace {keyspace!r} "
                        f"(run: ledger-tui schema apply): {error}"
                    ) from None
                except TRANSIENT as error:
                    raise failure(error) from None
        return self._prepared[name]

    def replica_of(self, key: bytes | None) -> object:
        """The first replica of the partition of a routing key (None when the token map is unknown)."""
        token_map = None if self._cluster is None else self._cluster.metadata.token_map
        if token_map is None or key is None:
            return None
        replicas = token_map.get_replicas(self._url.keyspace, token_map.token_class.from_key(key))
        return replicas[0] if replicas else None

    async def page(
        self, name: str, parameters: tuple[Any, ...], page_size: int, token: PageToken | None
    ) -> tuple[list[Any], PageToken | None]:
        """One page of a prepared query; the driver's paging state becomes the next token."""
        bound = (await self.statement(name)).bind(parameters)
        bound.fetch_size = page_size
        paging_state = None if token is None else token.state
        result = await self.execute(bound, paging_state=paging_state)
        state = result.paging_state
        return result.rows, None if state is None else PageToken(state)

    async def all_rows(self, name: str, parameters: tuple[Any, ...]) -> list[Any]:
        """Every row of a prepared query, page after page."""
        found, token = await self.page(name, parameters, _ALL_ROWS_PAGE, None)
        while token is not None:
            rows, token = await self.page(name, parameters, _ALL_ROWS_PAGE, token)
            found += rows
        return found
