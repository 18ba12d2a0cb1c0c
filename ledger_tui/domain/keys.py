"""API keys: what a key may do, how it is presented, and how it is checked against its stored hash.

Why only a hash is stored: a key is shown once, when it is created; whoever reads the ledger
later (a dump, a backup, an operator) cannot use what they read. A key is 192 random bits, so
one SHA-256 is enough (no slow hash: nothing to guess). The key's id travels in the clear
inside the key, so a server finds the stored record without trying every hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from .errors import ValidationError
from .timeutil import from_epoch_ms, to_epoch_ms

#: What a key may do: read anything, post entry sets, or administer (reversals, limits, keys).
READ, POST, ADMIN = "read", "post", "admin"
SCOPES = (READ, POST, ADMIN)
#: The scopes each scope grants (an admin key may do everything a key may do).
GRANTS = {READ: frozenset({READ}), POST: frozenset({POST}), ADMIN: frozenset(SCOPES)}
#: Settings names under which keys are kept: one per key, one per name (names are unique).
KEY_SETTING, NAME_SETTING = "api_key:", "api_key_name:"
PREFIX = "ltk"
_ID = re.compile(r"[0-9a-f]{12}")
_SECRET = re.compile(r"[0-9a-f]{48}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Most requests per second a key may be given.
MAX_RATE = 1_000_000


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as the ledger keeps it: never the key itself, only its hash."""

    key_id: str
    name: str
    scopes: frozenset[str]
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    #: Requests per second this key may make (None: the server's default).
    rate_limit: int | None = None

    @property
    def active(self) -> bool:
        """Whether the key still opens the API."""
        return self.revoked_at is None

    def grants(self, scope: str) -> bool:
        """Whether this key may do what ``scope`` names."""
        return any(scope in GRANTS[held] for held in self.scopes)

    def revoked(self, at: datetime) -> KeyRecord:
        """The same key, revoked at ``at``."""
        return replace(self, revoked_at=at)

    def to_setting(self) -> str:
        """The record as the text of its ledger setting."""
        return json.dumps(
            {
                "name": self.name,
                "scopes": sorted(self.scopes),
                "sha256": self.secret_hash,
                "created_ms": to_epoch_ms(self.created_at),
                "revoked_ms": None if self.revoked_at is None else to_epoch_ms(self.revoked_at),
                "rate_limit": self.rate_limit,
            },
            sort_keys=True,
        )

    @classmethod
    def from_setting(cls, key_id: str, text: str) -> KeyRecord:
        """A record from its setting (a record that cannot be read raises ValueError)."""
        data = json.loads(text)
        revoked = data.get("revoked_ms")
        return cls(
            key_id=key_id,
            name=str(data["name"]),
            scopes=frozenset(str(s) for s in data["scopes"]) & frozenset(SCOPES),
            secret_hash=str(data["sha256"]),
            created_at=from_epoch_ms(int(data["created_ms"])),
            revoked_at=None if revoked is None else from_epoch_ms(int(revoked)),
            rate_limit=None if data.get("rate_limit") is None else int(data["rate_limit"]),
        )


def check_name(name: str) -> str:
    """A key's name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, and
    not 12 hex digits (what a key id looks like: ``revoke ID|NAME`` must never mean two keys)."""
    if not _NAME.fullmatch(name):
        raise ValidationError.single(
            "name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if _ID.fullmatch(name):
        raise ValidationError.single("name", "must not look like a key id (12 hexadecimal digits)")
    return name


def check_scopes(scopes: list[str]) -> frozenset[str]:
    """The scopes of a new key: at least one, each one of read, post, admin."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValidationError.single("scope", f"must be one or more of {', '.join(SCOPES)}")
    return frozenset(scopes)


def check_rate(rate: int | None) -> int | None:
    """A key's own rate limit: 1 to a million requests per second, or None."""
    if rate is not None and not 1 <= rate <= MAX_RATE:
        raise ValidationError.single("rate_limit", f"must be 1 to {MAX_RATE} requests per second")
    return rate


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(
    name: str, scopes: frozenset[str], now: datetime, rate_limit: int | None = None
) -> tuple[KeyRecord, str]:
    """A new key: the record to keep and the key to show once (``ltk_<id>_<secret>``)."""
    key_id, secret = secrets.token_hex(6), secrets.token_hex(24)
    record = KeyRecord(key_id, check_name(name), scopes, _hash(secret), now, None, check_rate(rate_limit))
    return record, f"{PREFIX}_{key_id}_{secret}"


def split_key(presented: str) -> tuple[str, str] | None:
    """The (id, secret) of a presented key, or None when it cannot be one of ours."""
    parts = presented.split("_")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    if not _ID.fullmatch(parts[1]) or not _SECRET.fullmatch(parts[2]):
        return None
    return parts[1], parts[2]


def matches(record: KeyRecord, secret: str) -> bool:
    """Whether ``secret`` is the key ``record`` was made from (compared in constant time)."""
    return hmac.compare_digest(record.secret_hash, _hash(secret))


def required_scope(method: str, path: str) -> str | None:
    """The scope a request needs: none for the health check, admin for reversals, post for other
    posts, read for everything else (docs, reads, metrics)."""
    if path == "/health":
        return None
    if method == "POST" or method == "PUT" or method == "DELETE" or method == "PATCH":
        if path.endswith("/reversal") or path.startswith("/limits") or path.startswith("/keys"):
            return ADMIN
        return POST
    return READ
