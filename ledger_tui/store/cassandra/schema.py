"""Applying the ledger schema to a cluster: the keyspace and tables of schema.cql, on one node,
in order, then agreed by every node that is up.

Why: the driver waits only a short while for agreement after each change, so on a busy ring a
change sent to another node could name a keyspace that node has not heard of, and statements
prepared next go to any node (docs/cassandra-write-path.md, "Schema agreement").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from cassandra.cluster import Cluster

from ...domain.errors import LedgerError, StoreUnavailable
from ..url import CassandraUrl
from . import aio
from .cql import schema_statements

#: Seconds the nodes get to agree on the schema before `schema apply` gives up.
SCHEMA_AGREEMENT_S = 60.0

Execute = Callable[..., Awaitable[aio.Result]]


async def apply_schema(execute: Execute, cluster: Cluster | None, url: CassandraUrl) -> set[str]:
    """Create the keyspace and tables ``url`` names if missing (idempotent: a rerun is safe);
    the tables the keyspace held before (what an upgrade needs to know of the ledger)."""
    tables_before = await _existing_tables(execute, url.keyspace)
    dc = url.local_dc or await _local_dc(execute)
    host = schema_host(cluster)
    for ddl in schema_statements(url.keyspace, dc, url.replication):
        await execute(ddl, host=host)
    await schema_agreed(cluster)
    return tables_before


def schema_host(cluster: Cluster | None) -> Any:
    """The node the schema is changed on (the control connection's, which the driver asks
    about agreement), or None: any node. The driver waits at most ``max_schema_agreement_wait``
    after each change, then goes on; a change sent to another node could run before that node
    has the keyspace it names."""
    return None if cluster is None else cluster.get_control_connection_host()


async def schema_agreed(cluster: Cluster | None, wait_s: float = SCHEMA_AGREEMENT_S) -> None:
    """Wait until every node that is up reports the same schema version, so statements prepared
    next find their tables on any node; fail plainly (a rerun is safe) if they never agree."""
    if cluster is None:
        return
    control = cluster.control_connection
    agreed = await asyncio.to_thread(control.wait_for_schema_agreement, wait_time=wait_s)
    if not agreed:
        raise StoreUnavailable(
            f"the Cassandra nodes did not agree on the ledger schema within {wait_s:g} s "
            "(a node is slow or partitioned); run `ledger-tui schema apply` again"
        )


async def _existing_tables(execute: Execute, keyspace: str) -> set[str]:
    """The keyspace's tables; refused when it is from before sharded claims (it has a
    ``transactions`` table): say so plainly."""
    result = await execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,)
    )
    tables = {str(row[0]) for row in result.rows}
    if "transactions" in tables:
        raise LedgerError(
            f"keyspace {keyspace!r} holds a ledger written before sharded claims "
            "(its claims table is 'transactions'); point --store at a new keyspace and "
            "re-import the entry sets (ledger-tui import)"
        )
    return tables


async def _local_dc(execute: Execute) -> str:
    result = await execute("SELECT data_center FROM system.local")
    return str(result.rows[0][0])
