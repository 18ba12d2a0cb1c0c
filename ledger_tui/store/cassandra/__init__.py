"""The Apache Cassandra store: one module per seam (session, CQL, schema, writes, rows, marks).

The write path's design (claims, the claim log, repair, row encoding) is told in
docs/cassandra-write-path.md.
"""

from .store import CassandraStore

__all__ = ["CassandraStore"]
