"""Rows of the account index tree, shared by both stores so their indexes agree."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.model import Address


def tree_rows(addresses: Iterable[Address]) -> set[tuple[tuple[str, ...], str]]:
    """(parent path, child) pairs for every level of every address, de-duplicated."""
    rows: set[tuple[tuple[str, ...], str]] = set()
    for address in addresses:
        parts = address.as_tuple()
        for depth in range(len(parts)):
            rows.add((parts[:depth], parts[depth]))
    return rows
