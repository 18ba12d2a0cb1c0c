"""Store URLs: ``sqlite:PATH`` and ``cassandra://HOST[,HOST...][:PORT]/KEYSPACE[?...]``.

A URL never carries credentials (see credentials.py); TLS settings are paths and switches only.
"""

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
CASSANDRA_OPTIONS = (
    "consistency",
    "serial_consistency",
    "dc",
    "replication",
    "timeout",
    "retry",
    "tls",
    "ca",
    "cert",
    "key",
    "check_hostname",
)
_BOOLEANS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


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
    #: Client TLS: on with ``tls=true`` or any of ca/cert/key; the CA file to trust (else the
    #: system's), an optional client certificate and key, and whether the node's name is checked.
    tls: bool = False
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    check_hostname: bool = True


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
    if "@" in parts.netloc:
        raise ValidationError.single(
            "store",
            "credentials do not belong in the URL: set LEDGER_CASSANDRA_USERNAME and "
            "LEDGER_CASSANDRA_PASSWORD, or use a credentials file (--credentials, mode 0600)",
        )
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
    tls_paths = {
        name: Path(query[name]).expanduser() if query.get(name) else None for name in ("ca", "cert", "key")
    }
    tls = _boolean(query, "tls", default=any(tls_paths.values()))
    if not tls and any(tls_paths.values()):
        raise ValidationError.single("store.tls", "ca, cert and key need TLS (leave out tls=false)")
    if tls_paths["key"] is not None and tls_paths["cert"] is None:
        raise ValidationError.single("store.key", "a client key needs its certificate (cert=PATH)")
    return CassandraUrl(
        tls=tls,
        ca=tls_paths["ca"],
        cert=tls_paths["cert"],
        key=tls_paths["key"],
        check_hostname=_boolean(query, "check_hostname", default=True),
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


def _boolean(query: dict[str, str], name: str, default: bool) -> bool:
    if name not in query:
        return default
    value = _BOOLEANS.get(query[name].lower())
    if value is None:
        raise ValidationError.single(f"store.{name}", "must be true or false")
    return value
