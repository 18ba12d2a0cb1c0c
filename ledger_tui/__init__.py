"""ledger-tui: a terminal console for an immutable, append-only, double-entry ledger."""

__version__ = "0.1.0"
