"""A limit change drops "every head of an account no limit bounds any more" judged by
the history up to *its own* number (limits.py CassandraLimits.change: ``history[: made.sequence]``).
Two changes made concurrently, c1 clearing account A's limit and c2 setting it again: c2 raises
its fences, repairs, keeps A's head and says it is ready; writers then reserve at (or make) A's
head under c2. c1, slower, reaches its drop loop afterwards and drops A's head, A being unbounded
*after c1*. Every reservation at it is gone: a write that reserved and is about to claim (fence 2:
it will) posts at a head made again from the entries, which has neither its reservation nor (its
rows not written yet) its amount, so another write spends the same money and the bound is passed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.blocks import SealPolicy
from ledger_tui.domain.limits import Limit, LimitChange, parse_limit_pattern
from ledger_tui.store.cassandra.heads import DROP
from ledger_tui.store.cassandra.limits import CassandraLimits

A_TEXT = "fintech_uk/com.fintech.customer/current/GBP/a-1"
A = parse_address(A_TEXT)
AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


class _Store:
    async def repair(self, policy: Any, now: Any) -> None:
        return None


def test_a_slow_change_never_drops_the_head_a_later_change_bounds() -> None:
    pattern = parse_limit_pattern(A_TEXT)
    c1 = LimitChange(Limit(pattern, None, None), "ops-1", AT, 1)  # clears A (slow process)
    c2 = LimitChange(Limit(pattern, Decimal("0"), None), "ops-2", AT, 2)  # sets it again: done, ready
    limits = CassandraLimits(None, None, 0, _Store(), None)  # type: ignore[arg-type]
    applied: list[tuple[Any, list[Any]]] = []

    async def append(change: LimitChange) -> LimitChange:
        return c1

    async def history() -> list[LimitChange]:
        return [c1, c2]

    async def nothing(*args: Any, **kwargs: Any) -> Any:
        return None

    async def accounts() -> list[Any]:
        return [A]  # the head c2's writers made (since = 2), reservations in flight at it

    async def apply(account: Any, ops: list[Any], **kwargs: Any) -> list[Any]:
        applied.append((account, [op.kind for op in ops]))
        return [None for _ in ops]

    limits.append = append  # type: ignore[method-assign]
    limits.history = history  # type: ignore[method-assign]
    limits.raise_fence = nothing  # type: ignore[method-assign]
    limits._mark_ready = nothing  # type: ignore[method-assign]
    limits.refresh = nothing  # type: ignore[method-assign]
    limits.heads.accounts = accounts  # type: ignore[method-assign]
    limits.heads.apply = apply  # type: ignore[method-assign]
    asyncio.run(limits.change(c1, 1, SealPolicy()))
    assert (A, [DROP]) not in applied, "c1 dropped the head of an account c2 bounds (ready under c2)"
