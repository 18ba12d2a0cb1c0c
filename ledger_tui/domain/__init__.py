"""Pure ledger rules: money, addresses, entry sets, time buckets and balances.

This package imports neither Textual nor the Cassandra driver so that every rule can be
tested in isolation and reused by the CLI, the console and the stores alike.
"""
