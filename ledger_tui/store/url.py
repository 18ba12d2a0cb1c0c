"""Store URLs: ``sqlite:PATH`` and ``cassandra://HOST[,HOST...][:PORT]/KEYSPACE[?...]``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..domain.errors import ValidationError

_KEYSPACE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
CONSISTENCY_LEVELS = (
    "ONE",
    "TWO",
    "THREE",
    "QUORUM",
    "ALL",
    "LOCAL_QUORUM",
    "EACH_QUORUM",
    "LOCAL_ONE",
)
SERIAL_LEVELS = ("SERIAL", "LOCAL_SERIAL")
CASSANDRA_OPTIONS = ("consistency", "serial_consistency", "dc", "replication", "timeout", "retry")


def default_sqlite_path() -> Path:
    """The user's ledger file in the platform's data dir (never used by the demo or tests)."""
    from platformdirs import user_data_path

    return user_data_path("ledger-tui") / "ledger.sqlite"


@dataclass(frozen=True, slots=True)
class SqliteUrl:
    """Where an embedded ledger lives."""

    path: Path


@dataclass(frozen=True, slots=True)
class CassandraUrl:
    """How to reach a Cassandra cluster and which keyspace holds the ledger."""

    hosts: tuple[str, ...]
    port: int
    keyspace: str
    consistency: str = "LOCAL_QUORUM"
    serial_consistency: str = "LOCAL_SERIAL"
    local_dc: str | None = None
    replication: int = 1
    timeout_s: int = 10
    #: Seconds a write keeps retrying transient failures (timeouts, a node going down).
    retry_s: int = 10
    extra: dict[str, str] = field(default_factory=dict)


StoreUrl = SqliteUrl | CassandraUrl


def parse_store_url(text: str | None) -> StoreUrl:
    """Parse a store URL (or ``$LEDGER_STORE``, or the default SQLite file) with clear errors."""
    text = text or os.environ.get("LEDGER_STORE") or ""
    if not text:
        return SqliteUrl(default_sqlite_path())
    if text.startswith("sqlite:"):
        rest = text[len("sqlite:") :]
        if rest.startswith("//"):
            rest = rest[2:]
        if not rest:
            raise ValidationError.single("store", "sqlite: needs a file path, e.g. sqlite:ledger.db")
        return SqliteUrl(Path(rest).expanduser())
    if text.startswith("cassandra://"):
        return _parse_cassandra(text)
    raise ValidationError.single(
        "store", "must start with sqlite: or cassandra:// (e.g. cassandra://127.0.0.1:9042/ledger)"
    )


def _parse_cassandra(text: str) -> CassandraUrl:
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise ValidationError.single("store", "credentials in the URL are not supported")
    netloc = parts.netloc
    port = 9042
    if ":" in netloc.rsplit(",", 1)[-1]:
        netloc, _, port_text = netloc.rpartition(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValidationError.single("store.port", f"{port_text!r} is not a TCP port")
        port = int(port_text)
    hosts = tuple(host for host in netloc.split(",") if host)
    if not hosts:
        raise ValidationError.single("store.hosts", "at least one host is required")
    keyspace = parts.path.strip("/")
    if not _KEYSPACE.match(keyspace):
        raise ValidationError.single(
            "store.keyspace", f"{keyspace!r} must be lower-case letters, digits and _ (max 48)"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - set(CASSANDRA_OPTIONS)
    if unknown:
        raise ValidationError.single("store", f"unknown option(s): {', '.join(sorted(unknown))}")
    consistency = query.get("consistency", "LOCAL_QUORUM").upper()
    if consistency not in CONSISTENCY_LEVELS:
        raise ValidationError.single("store.consistency", f"must be one of {', '.join(CONSISTENCY_LEVELS)}")
    serial = query.get("serial_consistency", "LOCAL_SERIAL").upper()
    if serial not in SERIAL_LEVELS:
        raise ValidationError.single("store.serial_consistency", "must be SERIAL or LOCAL_SERIAL")
    replication = query.get("replication", "1")
    if not replication.isdigit() or int(replication) < 1:
        raise ValidationError.single("store.replication", "must be a positive whole number")
    timeout = query.get("timeout", "10")
    if not timeout.isdigit() or int(timeout) < 1:
        raise ValidationError.single("store.timeout", "must be whole seconds, at least 1")
    retry = query.get("retry", "10")
    if not retry.isdigit() or int(retry) > 3600:
        raise ValidationError.single("store.retry", "must be whole seconds, 0 to 3600")
    dc = query.get("dc")
    if dc is not None and not re.match(r"^[A-Za-z0-9_.-]{1,64}$", dc):
        raise ValidationError.single("store.dc", "must be a data-centre name")
    return CassandraUrl(
        hosts=hosts,
        port=port,
        keyspace=keyspace,
        consistency=consistency,
        serial_consistency=serial,
        local_dc=dc,
        replication=int(replication),
        timeout_s=int(timeout),
        retry_s=int(retry),
    )
