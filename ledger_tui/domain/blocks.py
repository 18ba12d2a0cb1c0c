"""Balance blocks: sealed day totals per node, lateness, and the plan that makes reads cheap.

A node is an account or the rollup of every account under a 4-part prefix. Pure rules only:
which entries are late, which days a sealer may seal, and, for a read, which days a block
serves exactly and which must be read live. See docs/balance-blocks.md for why it is exact.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .model import Address, Side
from .money import MONEY_CONTEXT, ZERO
from .timeutil import EPOCH, TimeRange

DAY = timedelta(days=1)
#: The level of the account tree a rollup node sums (LE/NS/NAME/CUR, what ``*`` addresses).
ROLLUP_DEPTH = 4
DEFAULT_HORIZON = timedelta(days=1)
DEFAULT_MARGIN = timedelta(seconds=60)


def day_of(moment: datetime) -> int:
    """The UTC day an instant falls in, as days since 1970-01-01."""
    return (moment - EPOCH).days


def day_start(day: int) -> datetime:
    """First instant of a day number."""
    return EPOCH + timedelta(days=day)


@functools.lru_cache(maxsize=65536)
def node_key(path: tuple[str, ...]) -> str:
    """The storage key of an account-tree node: its path as a JSON list (``"[]"`` for the root)."""
    return json.dumps(list(path), separators=(",", ":"))


#: Addresses whose node keys are remembered: every written entry needs both (a JSON encoding
#: each), and a ledger's writes touch far fewer accounts than entries.
_NODE_CACHE = 65_536


@functools.lru_cache(maxsize=_NODE_CACHE)
def account_node(address: Address) -> str:
    """The node of one account."""
    return node_key(address.as_tuple())


@functools.lru_cache(maxsize=_NODE_CACHE)
def rollup_node(address: Address) -> str:
    """The rollup node an account belongs to (its 4-part prefix)."""
    return node_key(address.as_tuple()[:ROLLUP_DEPTH])


@dataclass(frozen=True, slots=True)
class SealPolicy:
    """When an entry counts as late and how long the sealer waits for writes in flight.

    ``horizon`` is a property of the ledger (every writer must classify alike); ``margin`` is
    the writers'-clock assumption: a write stamped ``r`` is readable by ``r + margin``.
    """

    horizon: timedelta = DEFAULT_HORIZON
    margin: timedelta = DEFAULT_MARGIN

    def late_after(self, day: int) -> datetime:
        """Entries of ``day`` recorded at or after this instant are late."""
        return day_start(day + 1) + self.horizon

    def is_late(self, effective_at: datetime, recorded_at: datetime) -> bool:
        """Whether an entry was recorded after its day could already have been sealed."""
        return recorded_at >= self.late_after(day_of(effective_at))

    def late_before(self, recorded_at: datetime) -> int:
        """The first day whose entries recorded at ``recorded_at`` are not late: ``is_late`` in
        day numbers (``day_start(d + 1) + horizon <= r`` exactly when ``d < day_of(r - horizon)``),
        computed once per recording instead of once per entry. The horizon is taken off the
        instant, not the wall clock (``r - horizon`` in a zone with summer time is an hour off)."""
        return (recorded_at - EPOCH - self.horizon).days

    def cutoff(self, now: datetime) -> datetime:
        """The recorded-time cutoff a seal run at ``now`` may rely on."""
        return now - self.margin

    def sealable_until(self, cutoff: datetime) -> int:
        """First day a run with ``cutoff`` may not seal (every earlier day is past its horizon):
        the days whose entries recorded at ``cutoff`` would be late, so ``late_before``."""
        return self.late_before(cutoff)


@dataclass(slots=True)
class DayTotals:
    """Debits, credits and entry count of one day (mutable while folding)."""

    debits: Decimal = ZERO
    credits: Decimal = ZERO
    entries: int = 0

    def add(self, side: Side, amount: Decimal) -> None:
        """Count one entry (the first one sets the currency's precision of both columns)."""
        if not self.entries:
            self.debits = self.credits = MONEY_CONTEXT.multiply(amount, 0)
        if side is Side.DEBIT:
            self.debits = MONEY_CONTEXT.add(self.debits, amount)
        else:
            self.credits = MONEY_CONTEXT.add(self.credits, amount)
        self.entries += 1

    def absorb(self, other: DayTotals | DayBlock) -> None:
        """Add another day's totals (a rollup is the sum of its accounts)."""
        if not self.entries:
            self.debits, self.credits = other.debits, other.credits
            self.entries = other.entries
            return
        self.debits = MONEY_CONTEXT.add(self.debits, other.debits)
        self.credits = MONEY_CONTEXT.add(self.credits, other.credits)
        self.entries += other.entries


@dataclass(frozen=True, slots=True)
class DayBlock:
    """A sealed day of one node: totals over its entries recorded before ``cutoff``."""

    day: int
    debits: Decimal
    credits: Decimal
    entries: int
    cutoff: datetime


@dataclass(frozen=True, slots=True)
class SealState:
    """How far a node is sealed: every day before ``sealed_through``, by a run with ``cutoff``."""

    sealed_through: int
    cutoff: datetime


UNSEALED = SealState(-(10**9), datetime.min.replace(tzinfo=UTC))


@dataclass(slots=True)
class NodeView:
    """What a read knows about one node: seal state, its blocks and late marks in the range."""

    state: SealState = UNSEALED
    blocks: dict[int, DayBlock] = field(default_factory=dict)
    marks: dict[int, datetime] = field(default_factory=dict)

    def is_stale(self, day: int) -> bool:
        """A late entry arrived at or after the day's block was cut (or after it was sealed empty)."""
        mark = self.marks.get(day)
        if mark is None:
            return False
        block = self.blocks.get(day)
        return block is None or mark >= block.cutoff

    def serves(self, day: int, as_of: datetime | None) -> bool:
        """Whether the day's block (or its absence, meaning zero) is exact for this read."""
        if day >= self.state.sealed_through or self.is_stale(day):
            return False
        block = self.blocks.get(day)
        return as_of is None or block is None or block.cutoff <= as_of


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """Blocks to fold whole, and spans to read entry by entry (half-open, clipped to ``end``)."""

    blocks: list[DayBlock]
    live: list[TimeRange]


def plan_read(view: NodeView, time_range: TimeRange, as_of: datetime | None) -> ReadPlan:
    """Split everything before ``time_range.end`` into served blocks and live spans.

    A sealed day is served by its block (no block: zero) only when it is not stale, is valid for
    ``as_of`` and lies wholly before the start or wholly inside the range; any other day with a
    block or mark is read live, and so is everything from ``sealed_through`` on. A sealed day with
    neither block nor mark holds no entries, so it is never read.
    """
    start, end = time_range.start, time_range.end
    sealed = view.state.sealed_through
    blocks: list[DayBlock] = []
    live: list[TimeRange] = []
    for day in sorted({*view.blocks, *view.marks}):
        if day >= sealed or (end is not None and day_start(day) >= end):
            continue
        if _whole_day_inside(day, start, end) and view.serves(day, as_of):
            if day in view.blocks:
                blocks.append(view.blocks[day])
        else:
            live.append(
                TimeRange(day_start(day), day_start(day + 1) if end is None else min(day_start(day + 1), end))
            )
    if view.state == UNSEALED:
        live.append(TimeRange(None, end))
    elif end is None or day_start(sealed) < end:
        live.append(TimeRange(day_start(sealed), end))
    return ReadPlan(blocks, _joined(live))


def _whole_day_inside(day: int, start: datetime | None, end: datetime | None) -> bool:
    """The day lies wholly before ``start`` or wholly inside [start, end)."""
    begin, after = day_start(day), day_start(day + 1)
    if end is not None and after > end:
        return False
    return start is None or after <= start or begin >= start


def _joined(spans: list[TimeRange]) -> list[TimeRange]:
    """Ascending spans with each span that starts where the previous ends joined to it."""
    result: list[TimeRange] = []
    for span in spans:
        if result and result[-1].end is not None and result[-1].end == span.start:
            result[-1] = TimeRange(result[-1].start, span.end)
        else:
            result.append(span)
    return result
