"""The ledger's API keys: created, listed and revoked through the ledger's settings, and checked
by servers through a short-lived cache.

Why in the ledger's settings: every server (and every process of one) reads the same keys, and
both stores already decide a setting by compare-and-set, so names stay unique and a revoke
never loses a race. Why a cache: a post must not wait for a read of the keys; a key created or
revoked elsewhere is seen within ``ttl`` (an unknown key id triggers a read sooner).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import datetime

from ..domain.errors import NotFound, ValidationError
from ..domain.keys import (
    KEY_SETTING,
    NAME_SETTING,
    KeyRecord,
    check_name,
    check_rate,
    matches,
    new_key,
    split_key,
)
from ..store.base import Store

#: Seconds a server trusts what it read of the keys (a revoke takes at most this long to bite).
KEYS_TTL = 1.0
#: Seconds between reads forced by keys the cache does not know (bounds what bad keys cost).
MISS_TTL = 0.25


def _records(settings: dict[str, str]) -> dict[str, KeyRecord]:
    found = {}
    for name, text in settings.items():
        if name.startswith(KEY_SETTING):
            key_id = name[len(KEY_SETTING) :]
            try:
                record = KeyRecord.from_setting(key_id, text)
            except (ValueError, KeyError, TypeError):
                continue  # a record nobody can read opens nothing
            if settings.get(NAME_SETTING + record.name) == key_id:  # else its name went to another
                found[key_id] = record
    return found


class KeyBook:
    """Create, list and revoke keys (each change decided by the store's compare-and-set)."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store, self._clock = store, clock

    async def all(self) -> list[KeyRecord]:
        """Every key ever created (revoked ones too), oldest first."""
        records = _records(await self._store.read_settings())
        return sorted(records.values(), key=lambda r: (r.created_at, r.key_id))

    async def create(
        self, name: str, scopes: frozenset[str], rate_limit: int | None = None
    ) -> tuple[KeyRecord, str]:
        """A new key named ``name`` (unique among all keys, revoked ones included): its record and
        the key itself, which is never stored and cannot be shown again."""
        record, key = new_key(check_name(name), scopes, self._clock(), check_rate(rate_limit))
        # The record first, then the name: a record whose name another key holds (a lost race,
        # or a create cut short) opens nothing and is never listed.
        await self._store.keep_setting(KEY_SETTING + record.key_id, record.to_setting())
        if await self._store.keep_setting(NAME_SETTING + name, record.key_id) != record.key_id:
            raise ValidationError.single("name", f"a key named {name} exists (names are never reused)")
        return record, key

    async def find(self, id_or_name: str) -> KeyRecord:
        """The key with this id or name."""
        for record in await self.all():
            if id_or_name in (record.key_id, record.name):
                return record
        raise NotFound(f"no API key has the id or name {id_or_name}")

    async def revoke(self, id_or_name: str) -> KeyRecord:
        """Revoke a key (revoking it again answers the first revocation)."""
        record = await self.find(id_or_name)
        while record.active:
            revoked = record.revoked(self._clock())
            stored = await self._store.replace_setting(
                KEY_SETTING + record.key_id, record.to_setting(), revoked.to_setting()
            )
            record = KeyRecord.from_setting(record.key_id, stored)
        return record

    def cache(self, ttl: float = KEYS_TTL, miss_ttl: float = MISS_TTL) -> KeyCache:
        """A cache of the keys for a server."""
        return KeyCache(self._store, ttl, miss_ttl)


class KeyCache:
    """What a server knows of the keys: read at most every ``ttl`` seconds, shared by requests."""

    def __init__(
        self, store: Store, ttl: float, miss_ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store, self._ttl, self._miss_ttl, self._clock = store, ttl, miss_ttl, clock
        self._records: dict[str, KeyRecord] = {}
        self._read_at = -math.inf
        self._lock = asyncio.Lock()

    async def _refresh(self, older_than: float) -> None:
        async with self._lock:
            if self._clock() - self._read_at < older_than:
                return  # another request read them meanwhile
            started = self._clock()
            self._records = _records(await self._store.read_settings())
            self._read_at = started

    async def _current(self) -> dict[str, KeyRecord]:
        if self._clock() - self._read_at >= self._ttl:
            await self._refresh(self._ttl)
        return self._records

    async def any_key(self) -> bool:
        """Whether any key was ever created (then the API is closed to callers without one)."""
        return bool(await self._current())

    async def authenticate(self, presented: str) -> KeyRecord | None:
        """The active key ``presented`` is, or None (malformed, unknown, revoked or wrong secret)."""
        parts = split_key(presented)
        if parts is None:
            return None
        key_id, secret = parts
        record = (await self._current()).get(key_id)
        if record is None:
            await self._refresh(self._miss_ttl)
            record = self._records.get(key_id)
        if record is None or not record.active or not matches(record, secret):
            return None
        return record
