"""Partitions of every Cassandra table for a workload, in today's layout and in the proposed one.

Why: the scale model (bench/scale_model.py) must say, per table, how big the largest and the
99th-percentile partition get and how many there are, without a ring of 100 nodes. Each table
is a list of partition groups (rows of each, how many) derived from the workload's rates; the
assumptions (legs spread evenly over ordinary accounts, one leg one distinct (account, day) row
where that is an upper bound) are listed in docs/scale.md, and a unit test counts them exactly
on small materialised ledgers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.scale_rows import RowSizes, list_bytes

DAY_S = 86_400
WINDOW_S = 600
WINDOWS_PER_DAY = DAY_S // WINDOW_S
#: Month partitions are sized for the longest month; months kept count 30.44 days each.
MONTH_DAYS = 31
#: Cassandra's guidance: partitions under ~100,000 rows and ~100 MB.
BOUND_ROWS = 100_000
BOUND_BYTES = 100_000_000
#: What the proposed layout sizes a split for: half the bound, room for hash imbalance and a
#: busier period than the one it was sized on.
TARGET_ROWS = 50_000
TARGET_BYTES = 50_000_000
#: Most sub-partitions per bucket before a hot account's buckets get finer (month, day, hour).
MAX_SUBS = 64
GRANULARITY_DAYS = {"month": MONTH_DAYS, "day": 1, "hour": 1 / 24}


@dataclass(frozen=True, slots=True)
class Workload:
    """A ledger's traffic and topology (docs/scale.md explains every parameter)."""

    name: str
    accounts: int
    sets_per_second: float  # peak rate
    legs_per_set: float
    hot_shares: tuple[float, ...]  # share of all legs on each of the top-N accounts
    rollups: int  # 4-part prefixes; each hot account has one of its own
    largest_rollup_share: float  # share of the ordinary accounts in the largest rollup
    days_kept: int
    replication: int  # replicas of every row, every data centre
    nodes: int
    busy_share: float = 1.0  # the busiest month's mean rate over peak: day and month partitions
    average_share: float = 1.0  # the mean rate over peak of all the days kept: what is stored
    sets_per_write: float = 1.0  # sets per claim-log row (group commit of online posts)
    future_share: float = 0.0  # share of ordinary legs dated after the next day
    claim_shards: int = 8

    @property
    def months(self) -> int:
        """Month buckets kept."""
        return max(1, round(self.days_kept / 30.44))

    @property
    def month_days(self) -> int:
        """Days in the largest month partition."""
        return min(MONTH_DAYS, self.days_kept)

    @property
    def ordinary(self) -> int:
        """Accounts outside the top N."""
        return self.accounts - len(self.hot_shares)

    def legs_per_day(self, busy: bool = True) -> float:
        """Legs of a day of the busiest month (``busy``) or of an average day kept."""
        share = self.busy_share if busy else self.average_share
        return self.sets_per_second * share * DAY_S * self.legs_per_set

    def ordinary_legs_per_day(self, busy: bool = True) -> float:
        """Legs of such a day on ordinary accounts."""
        return (1 - sum(self.hot_shares)) * self.legs_per_day(busy)

    def legs_kept(self) -> float:
        """Legs of every day kept."""
        return self.legs_per_day(busy=False) * self.days_kept

    def rollup_sizes(self) -> list[tuple[int, int]]:
        """(accounts, how many rollups) of the ordinary rollups, the largest first."""
        rollups = self.rollups - len(self.hot_shares)
        if rollups <= 1:
            return [(self.ordinary, 1)]
        largest = round(self.largest_rollup_share * self.ordinary)
        rest = self.ordinary - largest
        return [(largest, 1), (math.ceil(rest / (rollups - 1)), rollups - 1)]


@dataclass(frozen=True, slots=True)
class Group:
    """``count`` partitions of ``rows`` rows each."""

    rows: float
    count: float


@dataclass(slots=True)
class TableModel:
    """One table's partitions: groups by size, rows kept, writes at peak and bytes of each."""

    table: str
    key: str
    groups: list[Group]
    total_rows: float
    row_bytes: float
    key_bytes: float
    writes: float  # row writes per second at peak, before replication
    hottest_writes: float  # row writes per second at peak into the busiest partition
    extra_bytes: dict[float, float] = field(default_factory=dict)  # rows -> more bytes a partition

    @property
    def partitions(self) -> float:
        return sum(group.count for group in self.groups)

    def largest(self) -> float:
        return max((group.rows for group in self.groups if group.count > 0), default=0.0)

    def p99(self) -> float:
        """Rows of the 99th-percentile partition (by rows)."""
        total, seen = self.partitions, 0.0
        for group in sorted(self.groups, key=lambda g: g.rows):
            seen += group.count
            if seen >= 0.99 * total:
                return group.rows
        return 0.0

    def bytes_of(self, rows: float) -> float:
        """Stored bytes of a partition of ``rows`` rows."""
        return self.key_bytes + math.ceil(rows) * self.row_bytes + self.extra_bytes.get(rows, 0.0)

    def stored(self) -> float:
        """Bytes of every partition (one replica)."""
        return self.total_rows * self.row_bytes + self.partitions * self.key_bytes

    def within_bound(self) -> bool:
        return whole(self.largest()) <= BOUND_ROWS and self.bytes_of(self.largest()) <= BOUND_BYTES


def whole(rows: float) -> int:
    """Rows as a whole number (the largest partition of an even spread holds the ceiling)."""
    return math.ceil(rows - 1e-6)


def spread(legs: float, accounts: float) -> list[Group]:
    """Partitions of ``legs`` rows dealt evenly over ``accounts`` (fewer legs: one row each)."""
    if legs <= 0 or accounts <= 0:
        return []
    if legs >= accounts:
        return [Group(legs / accounts, accounts)]
    return [Group(1, legs)]


def rollup_groups(w: Workload, days: float, busy: bool = True) -> list[tuple[float, float, float]]:
    """(accounts, legs on the rollup's accounts in ``days`` busy or average days, how many) of
    each group of ordinary rollups."""
    legs_per_account = w.ordinary_legs_per_day(busy) / max(1, w.ordinary) * days
    return [(size, size * legs_per_account, count) for size, count in w.rollup_sizes()]


def today(w: Workload, sizes: RowSizes) -> list[TableModel]:
    """Every written table in today's layout (ledger_tui/store/cassandra/schema.cql)."""
    row, key = sizes.row, sizes.key
    hot = w.hot_shares
    peak_legs = w.sets_per_second * w.legs_per_set
    legs_kept = w.legs_kept()
    sets_kept = legs_kept / w.legs_per_set
    ordinary_month = spread(w.ordinary_legs_per_day() * w.month_days, w.ordinary)
    entries = TableModel(
        "ledger_entries",
        "(address, month)",
        [Group(s * w.legs_per_day() * w.month_days, w.months) for s in hot]
        + [Group(g.rows, g.count * w.months) for g in ordinary_month],
        legs_kept,
        row["ledger_entries"],
        key["ledger_entries"],
        peak_legs,
        max((s * peak_legs for s in hot), default=peak_legs / max(1, w.ordinary)),
    )
    claims = claims_table(w, sizes, w.claim_shards, sets_kept)
    log = claim_log_table(w, 8)
    active = [min(n, legs) for n, legs, _ in rollup_groups(w, 1)]
    kept = [min(n, legs) for n, legs, _ in rollup_groups(w, w.days_kept, busy=False)]
    counts = [c for _, _, c in rollup_groups(w, 1)]
    rollups = len(hot) + sum(counts)
    tree = TableModel(
        "account_tree",
        "(parent)",
        [Group(1, 1), Group(rollups, 1), Group(1, 2 * rollups), Group(1, len(hot))]
        + [Group(k, c) for k, c in zip(kept, counts, strict=True)],
        1 + 3 * rollups + len(hot) + sum(k * c for k, c in zip(kept, counts, strict=True)),
        row["account_tree"],
        key["account_tree"],
        0.0,
        0.0,
    )
    return [
        entries,
        claims,
        log,
        claim_windows_table(w, "(part)", w.days_kept),
        tree,
        buckets_table(w, sizes, {}),
        *blocks_tables(w, sizes),
        day_activity_table(w, sizes, 1, active, counts),
        future_table(w, sizes),
    ]


def claims_table(w: Workload, sizes: RowSizes, shards: int, sets_kept: float) -> TableModel:
    return TableModel(
        "entry_sets",
        "(shard)",
        spread(sets_kept, shards),
        sets_kept,
        sizes.claim_row(w.legs_per_set),
        sizes.key["entry_sets"],
        w.sets_per_second,
        w.sets_per_second / shards,
    )


def log_rows_per_window(w: Workload) -> float:
    """Claim-log rows of a window at peak (one per write)."""
    return w.sets_per_second * WINDOW_S / w.sets_per_write


def claim_log_table(w: Workload, slots: int) -> TableModel:
    rows = log_rows_per_window(w)
    groups = [Group(g.rows, g.count * w.days_kept * WINDOWS_PER_DAY) for g in spread(rows, slots)]
    return TableModel(
        "claim_log",
        "(window, slot)" if slots == 8 else f"(window, slot of {slots})",
        groups,
        sum(g.rows * g.count for g in groups) * w.average_share,  # windows sized at peak, kept at mean
        list_bytes(max(1, round(w.sets_per_write))),
        32.0,
        2 * rows / WINDOW_S,
        2 * rows / WINDOW_S / min(slots, max(1.0, rows)),
    )


def claim_windows_table(w: Workload, key: str, days_per_partition: int) -> TableModel:
    windows = w.days_kept * WINDOWS_PER_DAY * min(1.0, log_rows_per_window(w))
    per = min(w.days_kept, days_per_partition) * WINDOWS_PER_DAY * min(1.0, log_rows_per_window(w))
    return TableModel("claim_windows", key, [Group(per, windows / per)], windows, 19.0, 18.0, 0.0, 0.0)


def buckets_table(w: Workload, sizes: RowSizes, finer: dict[int, float]) -> TableModel:
    """account_buckets: one row per bucket kept; ``finer`` maps a hot account to its buckets."""
    hot = [Group(finer.get(i, w.months), 1) for i in range(len(w.hot_shares))]
    kept = w.ordinary_legs_per_day(busy=False) * w.days_kept
    months_active = min(w.months, kept / max(1, w.ordinary))
    active = min(w.ordinary, kept)
    groups = [*hot, Group(max(1.0, months_active), active)]
    return TableModel(
        "account_buckets",
        "(address)",
        groups,
        sum(g.rows * g.count for g in groups),
        sizes.row["account_buckets"],
        sizes.key["account_buckets"],
        0.0,
        0.0,
    )


def blocks_tables(w: Workload, sizes: RowSizes) -> list[TableModel]:
    """balance_blocks (a row per node and day with entries), seal_state, node_late_marks."""
    kept = w.ordinary_legs_per_day(busy=False) * w.days_kept
    days_active = min(w.days_kept, kept / max(1, w.ordinary))
    active = min(w.ordinary, kept)
    rollups = len(w.hot_shares) + sum(c for _, c in w.rollup_sizes())
    nodes = len(w.hot_shares) + active + rollups
    groups = [Group(w.days_kept, len(w.hot_shares) + rollups), Group(max(1.0, days_active), active)]
    blocks = TableModel(
        "balance_blocks",
        "(node)",
        groups,
        sum(g.rows * g.count for g in groups),
        sizes.row["balance_blocks"],
        sizes.key["balance_blocks"],
        nodes / DAY_S,
        1 / DAY_S,
    )
    seal = TableModel("seal_state", "(node)", [Group(1, nodes)], nodes, sizes.row["seal_state"],
                      sizes.key["seal_state"], nodes / DAY_S, 1 / DAY_S)  # fmt: skip
    # One row per node; the worst map holds a late mark for every day kept.
    marks = TableModel("node_late_marks", "(node)", [Group(1, nodes)], nodes, sizes.row["node_late_marks"],
                       sizes.key["node_late_marks"], 0.0, 0.0, {1: 20.0 * (w.days_kept - 1)})  # fmt: skip
    return [blocks, seal, marks]


def day_activity_table(
    w: Workload, sizes: RowSizes, parts: int, active: list[float], counts: list[float]
) -> TableModel:
    days = w.days_kept
    hot = [Group(1, len(w.hot_shares) * days)]
    ordinary = [Group(a / parts, c * days * parts) for a, c in zip(active, counts, strict=True)]
    rows_per_day = len(w.hot_shares) + sum(a * c for a, c in zip(active, counts, strict=True))
    return TableModel(
        "day_activity",
        "(rollup, day)" if parts == 1 else f"(rollup, day, part of {parts})",
        hot + ordinary,
        rows_per_day * days,
        sizes.row["day_activity"],
        sizes.key["day_activity"],
        rows_per_day / DAY_S / w.busy_share,
        max(active, default=1) / parts / DAY_S / w.busy_share,
    )


def future_table(w: Workload, sizes: RowSizes) -> TableModel:
    """future_activity: one row per future-dated (day, account) of a rollup, ever (upper bound)."""
    groups = [Group(min(n * w.days_kept, legs * w.future_share), c)
              for n, legs, c in rollup_groups(w, w.days_kept, busy=False)]  # fmt: skip
    groups = [g for g in groups if g.rows > 0]
    return TableModel("future_activity", "(rollup)", groups, sum(g.rows * g.count for g in groups),
                      sizes.row["future_activity"], sizes.key["future_activity"],
                      w.future_share * w.ordinary_legs_per_day() / DAY_S / w.busy_share,
                      w.future_share * w.ordinary_legs_per_day() / DAY_S / w.busy_share)  # fmt: skip
