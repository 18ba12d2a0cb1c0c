"""Trial balance reads: one balance fold per tree node, over blocks, with bounded fan-out.

Grouped levels (legal entity to currency) read the four-part rollup nodes, so a trial balance
of 10,000 accounts under a few prefixes reads a few rollups; the account level folds each
account. Either way every store call takes a read slot, and at most ``NODE_FAN_OUT`` nodes are
folded at once, so a large ledger never floods the store (or memory) with pending reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from ..domain.balance import BalanceFold, BalanceRow
from ..domain.holds import Pending
from ..domain.model import TREE_DEPTH, Address
from ..domain.timeutil import TimeRange
from ..domain.trial_balance import TrialBalance
from .balances import Node, fold_node
from .partitions import Partitions

#: Nodes folded at once (each fold's store calls also wait for the engine's read slots).
NODE_FAN_OUT = 64
#: The rollup level: LE/NS/NAME/CUR.
ROLLUP_DEPTH = TREE_DEPTH - 1


async def tree_paths(parts: Partitions, depth: int) -> list[tuple[str, ...]]:
    """Every node ``depth`` levels down the account tree, level by level, in tree order."""
    level: list[tuple[str, ...]] = [()]
    for _ in range(depth):
        found = await parts.gather(parts.children(parent) for parent in level)
        level = [(*parent, child) for parent, kids in zip(level, found, strict=True) for child in kids]
    return sorted(level)


async def trial_balance(
    parts: Partitions,
    time_range: TimeRange,
    as_of: datetime | None,
    today: int,
    pending: Mapping[Address, Pending],
    *,
    per_account: bool,
) -> TrialBalance:
    """Opening, debits, credits and closing of every account (``per_account``) or every rollup,
    with ``pending`` (per account) beside them."""
    depth = TREE_DEPTH if per_account else ROLLUP_DEPTH
    paths = await tree_paths(parts, depth)
    gate = asyncio.Semaphore(NODE_FAN_OUT)
    rows: dict[tuple[str, ...], BalanceRow] = {}

    async def fold(path: tuple[str, ...]) -> None:
        node: Node = Address(*path) if per_account else (path[0], path[1], path[2], path[3])
        folded = BalanceFold(time_range.start, time_range.end)
        async with gate:
            await fold_node(parts, node, time_range, as_of, folded, today)
        for row in folded.result():
            rows[path] = row

    await parts.gather(fold(path) for path in paths)
    return TrialBalance(time_range, rows, depth, pending)
