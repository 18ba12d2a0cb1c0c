"""Expanding ``*`` above the account level into the four-part prefixes the rollups serve.

A pattern such as ``fintech_uk/*/current/GBP/*`` names every account under every namespace of
fintech_uk that has a ``current/GBP`` node. The tree is walked only at the ``*`` levels (a fixed
part is taken as is, an absent one simply finds nothing), so the result is a set of patterns
with concrete prefixes: each one a rollup (account ``*``) or one account, read exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.address import WILDCARD, AddressPattern
from ..domain.model import Address
from .partitions import Partitions

Target = Address | AddressPattern


async def expand_prefixes(parts: Partitions, pattern: AddressPattern) -> list[tuple[str, str, str, str]]:
    """Every existing four-part prefix that ``pattern``'s first four parts select."""
    level: list[tuple[str, ...]] = [()]
    for value in pattern.prefix():
        if value != WILDCARD:
            level = [(*parent, value) for parent in level]
            continue
        found = await parts.gather(parts.children(parent) for parent in level)
        pairs = zip(level, found, strict=True)
        level = [(*parent, child) for parent, children in pairs for child in children]
    return [(le, ns, name, currency) for le, ns, name, currency in level]


async def expand_patterns(parts: Partitions, patterns: Sequence[Target]) -> list[Target]:
    """``patterns`` with every ``*`` above the account level replaced by the prefixes it selects."""
    expanded: list[Target] = []
    for pattern in patterns:
        if isinstance(pattern, AddressPattern) and pattern.has_open_prefix:
            prefixes = await expand_prefixes(parts, pattern)
            expanded += [AddressPattern(*prefix, pattern.account_id) for prefix in prefixes]
        else:
            expanded.append(pattern)
    return expanded
