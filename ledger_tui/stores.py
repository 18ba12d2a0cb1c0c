"""Open the store a URL names; the only module that knows every backend."""

from __future__ import annotations

from .store.base import Store
from .store.url import CassandraUrl, SqliteUrl, StoreUrl


def open_store(url: StoreUrl) -> Store:
    """A not-yet-connected Store for ``url`` (the Cassandra driver is imported only if needed)."""
    if isinstance(url, SqliteUrl):
        from .store.sqlite import SqliteStore

        return SqliteStore(url.path)
    assert isinstance(url, CassandraUrl)
    from .store.cassandra import CassandraStore

    return CassandraStore(url)
