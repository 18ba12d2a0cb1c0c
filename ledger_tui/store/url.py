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
MAX_CLAIM_SHARDS = 4096
CASSANDRA_OPTIONS = (
    "consistency",
    "serial_consistency",
    "dc",
    "replication",
    "timeout",
    "retry",
    "claim_shards",
    "rollup_parts",
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
    #: Claim shards of a ledger this URL creates (None: the default); an existing ledger keeps
    #: its own, and naming another count for it is refused.
    claim_shards: int | None = None
    #: Parts a rollup's accounts are spread over, for a ledger this URL creates (as claim_shards).
    rollup_parts: int | None = None
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
    if "@" in parts.netloc:
        raise ValidationError.single(
            "store",
            "credentials do not belong in the URL: set LEDGER_CASSANDRA_USERNAME and "
            "LEDGER_CASSANDRA_PASSWORD, or use a credentials file (--credentials, mode 0600)",
        )
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
    claim_shards = _count_at_creation(query, "claim_shards")
    rollup_parts = _count_at_creation(query, "rollup_parts")
    dc = query.get("dc")
    if dc is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", dc):
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
        replication=replication,
        timeout_s=timeout,
        retry_s=retry,
        claim_shards=claim_shards,
        rollup_parts=rollup_parts,
    )


def _count_at_creation(query: dict[str, str], name: str) -> int | None:
    """A count a new ledger is created with (claim shards, rollup parts), if the URL names one."""
    if name not in query:
        return None
    count = whole_number(query[name])
    if count is None or not 1 <= count <= MAX_CLAIM_SHARDS:
        raise ValidationError.single(
            f"store.{name}", f"must be a whole number from 1 to {MAX_CLAIM_SHARDS} (ASCII digits)"
        )
    return count


def _boolean(query: dict[str, str], name: str, default: bool) -> bool:
    if name not in query:
        return default
    value = _BOOLEANS.get(query[name].lower())
    if value is None:
        raise ValidationError.single(f"store.{name}", "must be true or false")
    return value
