"""The proposed layout's partitions: every table bounded, each split chosen from the traffic.

Why: today's hot account-months, claim shards, claim-window list, rollup children and day
activity grow with traffic or time (bench/scale_layouts.py models them). Here each of those is
split so that its largest partition stays near TARGET_ROWS: sub-partitions and finer buckets for
hot accounts, claim shards and log slots sized from volume, parts for big rollups, the window
list by month, and future-dated days as an index of days. docs/scale.md gives the design.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass

from bench.scale_layouts import (
    DAY_S,
    GRANULARITY_DAYS,
    MAX_SUBS,
    TARGET_BYTES,
    TARGET_ROWS,
    Group,
    TableModel,
    Workload,
    blocks_tables,
    buckets_table,
    claim_log_table,
    claim_windows_table,
    claims_table,
    day_activity_table,
    log_rows_per_window,
    rollup_groups,
    spread,
)
from bench.scale_rows import RowSizes


@dataclass(frozen=True, slots=True)
class Split:
    """How one account's entries are partitioned: bucket granularity and sub-partitions."""

    granularity: str
    subs: int


@dataclass(frozen=True, slots=True)
class Choices:
    """Every split the proposed layout makes for a workload (each recorded in the ledger)."""

    hot: tuple[Split, ...]
    claim_shards: int
    log_slots: int
    rollup_parts: int


def subs_for(rows: float, row_bytes: float) -> int:
    """Sub-partitions that keep ``rows`` rows near the target in rows and in bytes."""
    return max(1, math.ceil(rows / TARGET_ROWS), math.ceil(rows * row_bytes / TARGET_BYTES))


def bucket_rows(w: Workload, share: float, granularity: str) -> float:
    """Rows of an account's bucket: a month at the mean rate, a day or an hour at peak."""
    if granularity == "month":
        return share * w.legs_per_day() * w.month_days
    return share * w.sets_per_second * w.legs_per_set * DAY_S * GRANULARITY_DAYS[granularity]


def split_for(w: Workload, share: float, row_bytes: float) -> Split:
    """The coarsest bucket whose sub-partitions stay at most MAX_SUBS (then hours, however many)."""
    for granularity in ("month", "day", "hour"):
        subs = subs_for(bucket_rows(w, share, granularity), row_bytes)
        if subs <= MAX_SUBS or granularity == "hour":
            return Split(granularity, subs)
    raise AssertionError("unreachable")


def buckets_kept(w: Workload, granularity: str) -> float:
    """Buckets of one account over the days kept."""
    return w.months if granularity == "month" else w.days_kept / GRANULARITY_DAYS[granularity]


def choose(w: Workload, sizes: RowSizes) -> Choices:
    """The splits for ``w``: each from the traffic it has to hold."""
    entry = sizes.row["ledger_entries"]
    sets_kept = w.legs_kept() / w.legs_per_set
    largest_rollup = max(min(n, legs) for n, legs, _ in rollup_groups(w, w.days_kept, busy=False))
    return Choices(
        hot=tuple(split_for(w, share, entry) for share in w.hot_shares),
        claim_shards=max(w.claim_shards, subs_for(sets_kept, sizes.claim_row(w.legs_per_set))),
        log_slots=max(8, math.ceil(log_rows_per_window(w) / TARGET_ROWS)),
        rollup_parts=subs_for(largest_rollup, sizes.row["account_tree"]),
    )


def proposed(w: Workload, sizes: RowSizes) -> tuple[list[TableModel], Choices]:
    """Every table of the proposed layout, and the splits it chose."""
    choices = choose(w, sizes)
    row, key = sizes.row, sizes.key
    peak_legs = w.sets_per_second * w.legs_per_set
    legs_kept = w.legs_kept()
    groups: list[Group] = []
    hottest = peak_legs / max(1, w.ordinary)
    for share, split in zip(w.hot_shares, choices.hot, strict=True):
        rows = bucket_rows(w, share, split.granularity) / split.subs
        groups.append(Group(rows, split.subs * buckets_kept(w, split.granularity)))
        hottest = max(hottest, share * peak_legs / split.subs)
    ordinary = spread(w.ordinary_legs_per_day() * w.month_days, w.ordinary)
    groups += [Group(g.rows, g.count * w.months) for g in ordinary]
    entries = TableModel("ledger_entries", "(address, bucket, sub)", groups, legs_kept, row["ledger_entries"],
                         key["ledger_entries"] + 7, peak_legs, hottest)  # fmt: skip
    split_accounts = sum(1 for split in choices.hot if split != Split("month", 1))
    layout = TableModel("account_layout", "(address)", [Group(1, split_accounts)] if split_accounts else [],
                        split_accounts, 40.0, key["account_buckets"], 0.0, 0.0)  # fmt: skip
    finer = {i: buckets_kept(w, s.granularity) for i, s in enumerate(choices.hot)}
    parts = choices.rollup_parts
    kept = [min(n, legs) for n, legs, _ in rollup_groups(w, w.days_kept, busy=False)]
    counts = [c for _, _, c in rollup_groups(w, 1)]
    rollups = len(w.hot_shares) + sum(counts)
    tree = TableModel(
        "account_tree",
        f"(parent, part of {parts} at rollups)",
        [Group(1, 1), Group(rollups, 1), Group(1, 2 * rollups), Group(1, len(w.hot_shares))]
        + [Group(k / parts, c * parts) for k, c in zip(kept, counts, strict=True)],
        1 + 3 * rollups + len(w.hot_shares) + sum(k * c for k, c in zip(kept, counts, strict=True)),
        row["account_tree"],
        key["account_tree"] + 7,
        0.0,
        0.0,
    )
    active = [min(n, legs) for n, legs, _ in rollup_groups(w, 1)]
    future = [c for n, legs, c in rollup_groups(w, 1) if legs * w.future_share >= 1]
    future_days = TableModel("future_days", "(rollup)", [Group(w.days_kept, sum(future))] if future else [],
                             w.days_kept * sum(future), 19.0, key["future_activity"], 0.0, 0.0)  # fmt: skip
    tables = [
        entries,
        layout,
        claims_table(w, sizes, choices.claim_shards, legs_kept / w.legs_per_set),
        claim_log_table(w, choices.log_slots),
        claim_windows_table(w, "(month)", 31),
        tree,
        buckets_table(w, sizes, finer),
        *blocks_tables(w, sizes),
        day_activity_table(w, sizes, parts, active, counts),
        future_days,
    ]
    tables[2].key = f"(shard of {choices.claim_shards})"
    return tables, choices


def sub_of(transaction_id: uuid.UUID, subs: int) -> int:
    """The sub-partition of a set's entries on a split account: a hash of its id, so every leg
    of one set lands in one sub and a retry or a repair writes the same rows."""
    if subs == 1:
        return 0
    digest = hashlib.blake2b(transaction_id.bytes, digest_size=8, person=b"ledger-sub").digest()
    return int.from_bytes(digest, "big") % subs


def part_of(account_id: str, parts: int) -> int:
    """The part of a rollup's children and day activity an account belongs to."""
    if parts == 1:
        return 0
    digest = hashlib.blake2b(account_id.encode(), digest_size=8, person=b"ledger-part").digest()
    return int.from_bytes(digest, "big") % parts
