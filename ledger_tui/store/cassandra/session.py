"""How a Cassandra session is built, secured and how its failures read: the cluster's policies
(token-aware routing, speculative execution, heartbeats), TLS, and refusals told apart.

Why these policies: a *paused* node accepts requests and never answers, so idempotent requests
are re-sent to the next replica after ``SPECULATE_AFTER_S`` and the heartbeat soon marks the node
down (every statement is idempotent: ``cql.STATEMENTS``; docs/cassandra-write-path.md).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from typing import Any

from cassandra import AuthenticationFailed, ConsistencyLevel, OperationTimedOut
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import (
    ConstantSpeculativeExecutionPolicy,
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.query import PreparedStatement, tuple_factory

from ...domain.errors import AccessDenied, LedgerError, StoreUnavailable, TlsFailure, ValidationError
from ..credentials import Credentials
from ..url import CassandraUrl
from .errors import failure

#: Seconds without an answer after which an idempotent request is also sent to the next replica
#: (one extra execution at most: a paused coordinator costs this much, not the request timeout).
SPECULATE_AFTER_S = 0.4
SPECULATIVE_EXECUTIONS = 1
#: Seconds of silence on a connection before a heartbeat, and for its answer (then the node is
#: marked down until it reconnects).
HEARTBEAT_INTERVAL_S = 2
HEARTBEAT_TIMEOUT_S = 2
#: Seconds a prepare waits for its node, and attempts (each on the next node of the plan).
PREPARE_TIMEOUT_S = 2.0
PREPARE_ATTEMPTS = 3


def new_cluster(url: CassandraUrl, credentials: Credentials | None, consistency: int, serial: int) -> Cluster:
    """The driver cluster for ``url`` (not connected; resolves the contact points)."""
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=url.local_dc)),
        consistency_level=consistency,
        serial_consistency_level=serial,
        request_timeout=url.timeout_s,
        row_factory=tuple_factory,
        speculative_execution_policy=ConstantSpeculativeExecutionPolicy(
            SPECULATE_AFTER_S, SPECULATIVE_EXECUTIONS
        ),
    )
    auth = None if credentials is None else PlainTextAuthProvider(credentials.username, credentials.password)
    return Cluster(
        contact_points=list(url.hosts),
        port=url.port,
        auth_provider=auth,
        ssl_context=tls_context(url) if url.tls else None,
        protocol_version=5,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=min(url.timeout_s, 5),
        control_connection_timeout=url.timeout_s,
        # The default backoff grows to 10 minutes; an operator waiting on a node wants seconds.
        reconnection_policy=ExponentialReconnectionPolicy(0.5, 5.0),
        # A connection that hears nothing (a dead node whose TLS socket shows no close, or a
        # paused node) is found within seconds, so routing and the header's count follow it.
        idle_heartbeat_interval=HEARTBEAT_INTERVAL_S,
        idle_heartbeat_timeout=HEARTBEAT_TIMEOUT_S,
        # Preparing on every node waits for each in turn (a paused one: the full timeout); a
        # node that lacks a statement answers UNPREPARED and the driver prepares it there.
        prepare_on_all_hosts=False,
        # Requests are small and many are in flight on one connection: without TCP_NODELAY,
        # Nagle's algorithm holds a small write back until the node acknowledges the previous
        # one, which the node may delay (docs/cassandra-write-path.md).
        sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


async def prepare_all(
    session: Any, keyspace: str, statements: Mapping[str, str]
) -> dict[str, PreparedStatement]:
    """Every statement prepared (concurrently) and marked idempotent; a node that does not
    answer a prepare in ``PREPARE_TIMEOUT_S`` is skipped for the next one."""
    # The session's default timeout is what a prepare waits (requests use the profile's); the
    # public setter refuses to run with execution profiles, so the value is set underneath it.
    session._default_timeout = PREPARE_TIMEOUT_S

    async def one(query: str) -> PreparedStatement:
        for attempt in range(PREPARE_ATTEMPTS):
            try:
                prepared: PreparedStatement = await asyncio.to_thread(session.prepare, query)
            except OperationTimedOut:
                if attempt + 1 == PREPARE_ATTEMPTS:
                    raise
                continue
            prepared.is_idempotent = True  # every statement is (cql.STATEMENTS)
            return prepared
        raise AssertionError("unreachable")

    names = list(statements)
    queries = [statements[name].replace("{ks}", keyspace) for name in names]  # a validated identifier
    done = await asyncio.gather(*(one(query) for query in queries))
    return dict(zip(names, done, strict=True))


_ONE_OR_FIXED = {
    ConsistencyLevel.ANY: 1,
    ConsistencyLevel.ONE: 1,
    ConsistencyLevel.LOCAL_ONE: 1,
    ConsistencyLevel.TWO: 2,
    ConsistencyLevel.THREE: 3,
}


def replicas_short(
    cluster: Cluster | None, url: CassandraUrl, statement: Any, default_level: int
) -> tuple[int, int] | None:
    """(replicas up, replicas required) when the driver sees some, but too few, replicas of the
    statement's partition up for its consistency level, else None. Then no coordinator can
    succeed, so the write fails at once instead of waiting on a node that has not yet noticed.
    With no replica up the normal path runs (it retries while a node restarts, and one false
    "down" cannot refuse a post)."""
    token_map = None if cluster is None else cluster.metadata.token_map
    if token_map is None:
        return None
    key = getattr(statement, "routing_key", None)
    # A statement without a partition key (a scan) needs every token range: check each range.
    tokens = token_map.ring if key is None else [token_map.token_class.from_key(key)]
    level = getattr(statement, "consistency_level", None) or default_level
    serial = getattr(statement, "serial_consistency_level", None)
    for token in tokens:
        replicas = token_map.get_replicas(url.keyspace, token)
        if url.local_dc:
            replicas = [host for host in replicas if host.datacenter == url.local_dc]
        up = sum(1 for host in replicas if host.is_up)
        quorum = len(replicas) // 2 + 1
        required = quorum if serial is not None else _ONE_OR_FIXED.get(level, quorum)
        if level == ConsistencyLevel.ALL:
            required = len(replicas)
        if 0 < up < required:
            return up, required
    return None


def unavailable(error: BaseException) -> StoreUnavailable:
    text = str(error).splitlines()[0] if str(error) else ""
    return StoreUnavailable(f"Cassandra did not answer ({type(error).__name__}): {text[:300]}")


def _is_tls_problem(cause: BaseException) -> bool:
    return isinstance(cause, ssl.SSLError) or "[SSL" in str(cause)


def connect_failure(error: BaseException, url: CassandraUrl, credentials: Credentials | None) -> LedgerError:
    """What a failed connect means for the operator: refused credentials and TLS problems are
    not worth retrying as they are, so they are told apart from an unreachable cluster."""
    causes = list(error.errors.values()) if isinstance(error, NoHostAvailable) and error.errors else [error]
    for cause in causes:
        if isinstance(cause, AuthenticationFailed):
            if credentials is None:
                return AccessDenied(
                    "access denied: the cluster requires a username and password (set "
                    "LEDGER_CASSANDRA_USERNAME/LEDGER_CASSANDRA_PASSWORD or use a credentials file)"
                )
            detail = str(cause).split("message=", 1)[-1].strip('"')[:200]
            return AccessDenied(
                f"access denied for user {credentials.username!r} ({credentials.source}): {detail}"
            )
    for cause in causes:
        if _is_tls_problem(cause):
            detail = str(cause).split("Last error: ", 1)[-1][:300]
            if "VERIFY_FAILED" in detail:
                hint = f" (trusted CA: {url.ca})" if url.ca else " (trusted CAs: the system's; set ca=PATH)"
            elif url.cert is None:  # the node hung up or alerted during the handshake
                hint = " (if the cluster requires a client certificate, add cert=PATH&key=PATH)"
            else:
                hint = ""
            return TlsFailure(f"TLS error: {detail}{hint}")
    if not url.tls and any(isinstance(cause, ConnectionResetError) for cause in causes):
        return StoreUnavailable(f"{unavailable(error)} (if the cluster requires TLS, add tls=true&ca=PATH)")
    return failure(error)  # unresolvable, unreachable or not answering: retry later


def tls_context(url: CassandraUrl) -> ssl.SSLContext:
    """The client TLS context the URL describes (hostname checked unless check_hostname=false)."""
    try:
        context = ssl.create_default_context(cafile=str(url.ca) if url.ca else None)
    except FileNotFoundError:
        raise ValidationError.single("store.ca", f"{url.ca} does not exist") from None
    except (ssl.SSLError, OSError) as error:
        raise ValidationError.single("store.ca", f"{url.ca} is not a PEM CA file ({error})") from None
    context.check_hostname = url.check_hostname
    if url.cert is not None:
        try:
            context.load_cert_chain(str(url.cert), str(url.key) if url.key else None)
        except FileNotFoundError:
            raise ValidationError.single("store.cert", f"{url.cert} or {url.key} does not exist") from None
        except (ssl.SSLError, OSError) as error:
            raise ValidationError.single(
                "store.cert", f"cannot load the client certificate/key ({error})"
            ) from None
    return context
