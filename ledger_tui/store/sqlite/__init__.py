"""The embedded SQLite store: the zero-setup default, with the same contract as Cassandra's."""

from .store import SqliteStore

__all__ = ["SqliteStore"]
