"""Pluggable stores behind one async interface: embedded SQLite and Apache Cassandra.

The store knows rows and partitions, not rules: validation and balancing live in the domain
and the engine, so both stores can be held to one contract test suite.
"""
