"""Sealing: turn settled days into balance blocks, account by account, then per rollup node.

Idempotent and resumable: a run picks ``cutoff = now - margin``, seals every day whose end +
horizon has passed, and only then moves ``sealed_through``; blocks with a later cutoff always
win, so concurrent or repeated runs never make a block less exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.blocks import (
    ROLLUP_DEPTH,
    UNSEALED,
    DayBlock,
    DayTotals,
    SealPolicy,
    SealState,
    account_node,
    day_start,
    node_key,
)
from ..domain.layout import MIN_PARTITION_ROWS, AccountLayout
from ..domain.model import Address, Movement
from ..domain.timeutil import DAY_MS, TimeRange, to_epoch_ms
from .balances import MAX_ACTIVITY_DAYS
from .partitions import READ_BATCH, Partitions
from .reads import collect

_FIRST_DAY = -(10**9)
#: Entries a month (at an account's busiest day's rate) from which a split is considered: the
#: fewest rows a ledger may size its partitions for, so no setting is ever out of reach.
BUSY_MONTH = MIN_PARTITION_ROWS
#: Accounts sealed at once (their day totals are held until added to the rollup).
ACCOUNT_CHUNK = 32


@dataclass(slots=True)
class SealReport:
    """What a seal run did."""

    cutoff: datetime
    sealed_through: int
    nodes: int = 0
    accounts: int = 0
    blocks: int = 0
    seconds: float = 0.0
    #: The most entries of one day among the days sealed, per account busy enough to be split.
    busiest: dict[Address, int] = field(default_factory=dict)
    #: Layout changes the run made for them.
    splits: list[AccountLayout] = field(default_factory=list)


@dataclass(slots=True)
class _AccountSeal:
    """Day totals one account's run computed: every day from ``from_day`` (None: all) and ``stale``."""

    from_day: int | None
    stale: set[int]
    totals: dict[int, DayTotals] = field(default_factory=dict)

    def covers(self, day: int) -> bool:
        return self.from_day is None or day >= self.from_day or day in self.stale


async def rollup_prefixes(parts: Partitions) -> list[tuple[str, str, str, str]]:
    """Every 4-part prefix of the account tree (the rollup nodes)."""
    level: list[tuple[str, ...]] = [()]
    for _ in range(ROLLUP_DEPTH):
        found = await parts.gather(parts.children(parent) for parent in level)
        level = [(*parent, child) for parent, kids in zip(level, found, strict=True) for child in kids]
    return [(p[0], p[1], p[2], p[3]) for p in sorted(level)]


async def seal(
    parts: Partitions,
    policy: SealPolicy,
    now: datetime,
    *,
    rebuild: bool = False,
    on_progress: Callable[[SealReport, int], None] | None = None,
) -> SealReport:
    """Seal every node up to the days ``now`` allows (``rebuild``: recompute every block)."""
    started = time.perf_counter()
    cutoff = policy.cutoff(now)
    report = SealReport(cutoff, policy.sealable_until(cutoff))
    prefixes = await rollup_prefixes(parts)
    for index, prefix in enumerate(prefixes):
        await _seal_rollup(parts, policy, prefix, report, rebuild)
        if on_progress is not None:
            on_progress(report, len(prefixes) - index - 1)
    report.seconds = time.perf_counter() - started
    return report


async def _seal_rollup(
    parts: Partitions,
    policy: SealPolicy,
    prefix: tuple[str, str, str, str],
    report: SealReport,
    rebuild: bool,
) -> None:
    node, until = node_key(prefix), report.sealed_through
    view = await parts.view(node, until)
    sealed = view.state.sealed_through
    whole = rebuild or view.state == UNSEALED or until - sealed > MAX_ACTIVITY_DAYS
    stale = set() if whole else {day for day in view.marks if view.is_stale(day)}
    if whole:
        accounts = await parts.children(prefix)
        needed: set[int] | None = None
    else:
        needed = set(range(sealed, until)) | stale
        active = await parts.gather(parts.day_activity(node, day) for day in sorted(needed))
        accounts = sorted({acct for found in active for acct in found})
    sums: dict[int, DayTotals] = {}
    for offset in range(0, len(accounts), ACCOUNT_CHUNK):
        chunk = [Address(*prefix, acct) for acct in accounts[offset : offset + ACCOUNT_CHUNK]]
        results = await parts.gather(_seal_account(parts, policy, a, report, rebuild) for a in chunk)
        for address, result in zip(chunk, results, strict=True):
            await _add_to_rollup(parts, address, result, needed, sums)
    blocks = [
        DayBlock(day, t.debits, t.credits, t.entries, report.cutoff)
        for day, t in sorted(sums.items())
        if t.entries
    ]
    await parts.slot(parts.store.write_blocks(node, blocks))
    if until > sealed or rebuild:
        await parts.slot(parts.store.write_seal_state(node, SealState(until, report.cutoff)))
    report.nodes += 1
    report.blocks += len(blocks)


async def _add_to_rollup(
    parts: Partitions,
    address: Address,
    result: _AccountSeal,
    needed: set[int] | None,
    sums: dict[int, DayTotals],
) -> None:
    """Add an account's day totals for the rollup's days (all days when ``needed`` is None),
    reading back the blocks of days this run did not compute for the account."""
    if needed is None:
        days: set[int] = set(result.totals)
        first, last = (_FIRST_DAY, result.from_day) if result.from_day is not None else (0, 0)
    else:
        days = needed
        missing = [day for day in needed if not result.covers(day)]
        first, last = (min(missing), max(missing) + 1) if missing else (0, 0)
    stored: dict[int, DayBlock] = {}
    if first < last:
        node = account_node(address)
        found = await collect(lambda t: parts.slot(parts.store.read_blocks(node, first, last, READ_BATCH, t)))
        stored = {block.day: block for block in found if not result.covers(block.day)}
        if needed is None:
            days |= set(stored)
    for day in days:
        value: DayTotals | DayBlock | None = result.totals.get(day) if result.covers(day) else stored.get(day)
        if value is not None and value.entries:
            sums.setdefault(day, DayTotals()).absorb(value)


async def _seal_account(
    parts: Partitions, policy: SealPolicy, address: Address, report: SealReport, rebuild: bool
) -> _AccountSeal:
    """Seal one account through ``report.sealed_through``; returns the day totals it computed."""
    node, until = account_node(address), report.sealed_through
    view = await parts.view(node, until)
    sealed = view.state.sealed_through
    whole = rebuild or view.state == UNSEALED
    result = _AccountSeal(
        None if whole else sealed, set() if whole else {d for d in view.marks if view.is_stale(d)}
    )
    spans = [TimeRange(day_start(day), day_start(day + 1)) for day in sorted(result.stale)]
    if whole or sealed < until:
        spans.append(TimeRange(None if whole else day_start(sealed), day_start(until)))
    cutoff_ms = to_epoch_ms(report.cutoff)
    buckets = await parts.buckets(address)

    def visit(chunk: list[Movement]) -> None:
        for movement in chunk:
            if movement.recorded_ms < cutoff_ms:
                day = movement.effective_ms // DAY_MS
                totals = result.totals.get(day)
                if totals is None:
                    totals = result.totals[day] = DayTotals()
                totals.add(movement.side, movement.amount)

    await parts.gather(parts.each_movement_page(address, span, visit, buckets) for span in spans)
    cut = report.cutoff
    blocks = [DayBlock(d, t.debits, t.credits, t.entries, cut) for d, t in sorted(result.totals.items())]
    await parts.slot(parts.store.write_blocks(node, blocks))
    if until > sealed or whole:
        await parts.slot(parts.store.write_seal_state(node, SealState(until, cut)))
    report.accounts += 1
    report.blocks += len(blocks)
    busiest = max((t.entries for t in result.totals.values()), default=0)
    if busiest * 31 > BUSY_MONTH:
        report.busiest[address] = busiest
    return result
