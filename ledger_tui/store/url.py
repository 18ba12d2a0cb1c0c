"""Store URLs: ``sqlite:PATH`` and ``cassandra://HOST[,HOST...][:PORT]/KEYSPACE[?...]``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..domain.errors import ValidationError
from ..domain.text import shown

#: Whole numbers in URLs: ASCII digits only (int() alone would take Arabic-Indic digits, "1_0").
_DIGITS = re.compile(r"^[0-9]{1,9}\Z")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})\Z")
_IPV6 = re.compile(r"^\[([0-9A-Fa-f:.]{2,45})\]\Z")
#: How long a SQLite writer waits for another process's write lock before "store busy".
DEFAULT_BUSY_TIMEOUT_S = 5
SQLITE_OPTIONS = ("busy_timeout",)


def whole_number(text: str) -> int | None:
    """``text`` as a non-negative int if it is 1 to 9 ASCII digits, else None."""
    return int(text) if _DIGITS.match(text) else None


_KEYSPACE = re.compile(r"^[a-z][a-z0-9_]{0,47}\Z")
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
    busy_timeout_s: int = DEFAULT_BUSY_TIMEOUT_S


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
        rest, _, query_text = rest.partition("?")
        if not rest:
            raise ValidationError.single("store", "sqlite: needs a file path, e.g. sqlite:ledger.db")
        query = _query(query_text, SQLITE_OPTIONS)
        busy = whole_number(query.get("busy_timeout", str(DEFAULT_BUSY_TIMEOUT_S)))
        if busy is None:
            raise ValidationError.single("store.busy_timeout", "must be whole seconds (ASCII digits)")
        return SqliteUrl(Path(rest).expanduser(), busy)
    if text.startswith("cassandra://"):
        return _parse_cassandra(text)
    raise ValidationError.single(
        "store", "must start with sqlite: or cassandra:// (e.g. cassandra://127.0.0.1:9042/ledger)"
    )


def _query(text: str, known: tuple[str, ...]) -> dict[str, str]:
    """A URL's query options (last value wins), refusing any option not in ``known``."""
    query = {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}
    unknown = set(query) - set(known)
    if unknown:
        raise ValidationError.single("store", f"unknown option(s): {shown(', '.join(sorted(unknown)))}")
    return query


def _host(text: str) -> str:
    """A host name or IP address (``[::1]`` brackets dropped), or a clear error."""
    ipv6 = _IPV6.match(text)
    if ipv6:
        return ipv6.group(1)
    if not _HOST.match(text):
        raise ValidationError.single("store.hosts", f"{shown(text)} is not a host name or IP address")
    return text


def _parse_cassandra(text: str) -> CassandraUrl:
    try:
        parts = urlsplit(text)
    except ValueError as error:  # e.g. an unbalanced [ in the host
        raise ValidationError.single("store", f"not a URL: {error}") from None
    if parts.username or parts.password:
        raise ValidationError.single("store", "credentials in the URL are not supported")
    netloc = parts.netloc
    port = 9042
    if ":" in netloc.rsplit(",", 1)[-1].rsplit("]", 1)[-1]:
        netloc, _, port_text = netloc.rpartition(":")
        number = whole_number(port_text)
        if number is None or not 0 < number < 65536:
            raise ValidationError.single("store.port", f"{shown(port_text)} is not a TCP port")
        port = number
    hosts = tuple(_host(host) for host in netloc.split(",") if host)
    if not hosts:
        raise ValidationError.single("store.hosts", "at least one host is required")
    keyspace = parts.path.strip("/")
    if not _KEYSPACE.match(keyspace):
        raise ValidationError.single(
            "store.keyspace", f"{shown(keyspace)} must be lower-case letters, digits and _ (max 48)"
        )
    query = _query(parts.query, CASSANDRA_OPTIONS)
    consistency = query.get("consistency", "LOCAL_QUORUM").upper()
    if consistency not in CONSISTENCY_LEVELS:
        raise ValidationError.single("store.consistency", f"must be one of {', '.join(CONSISTENCY_LEVELS)}")
    serial = query.get("serial_consistency", "LOCAL_SERIAL").upper()
    if serial not in SERIAL_LEVELS:
        raise ValidationError.single("store.serial_consistency", "must be SERIAL or LOCAL_SERIAL")
    replication = whole_number(query.get("replication", "1"))
    if replication is None or replication < 1:
        raise ValidationError.single("store.replication", "must be a positive whole number (ASCII digits)")
    timeout = whole_number(query.get("timeout", "10"))
    if timeout is None or timeout < 1:
        raise ValidationError.single("store.timeout", "must be whole seconds, at least 1 (ASCII digits)")
    retry = whole_number(query.get("retry", "10"))
    if retry is None or retry > 3600:
        raise ValidationError.single("store.retry", "must be whole seconds, 0 to 3600 (ASCII digits)")
    dc = query.get("dc")
    if dc is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", dc):
        raise ValidationError.single("store.dc", "must be a data-centre name")
    return CassandraUrl(
        hosts=hosts,
        port=port,
        keyspace=keyspace,
        consistency=consistency,
        serial_consistency=serial,
        local_dc=dc,
        replication=replication,
        timeout_s=timeout,
        retry_s=retry,
    )
