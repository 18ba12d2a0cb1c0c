"""Scale model: per table, the largest and p99 partition, writes and storage per node, both layouts.

Why: Cassandra wants partitions under ~100,000 rows and ~100 MB, and a ledger at internet scale
cannot be run here on 100 nodes, so the partitions it would make are computed from the workload
(bench/scale_layouts.py, bench/scale_proposed.py) with bytes from the real row encoding
(bench/scale_rows.py); tests hold the counts to materialised small ledgers. docs/scale.md.
Usage: python bench/scale_model.py [--scenario demo|measured|fintech|monzo|all] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: `bench` importable

from bench.scale_layouts import BOUND_BYTES, BOUND_ROWS, TableModel, Workload, today, whole
from bench.scale_proposed import Choices, proposed
from bench.scale_rows import Shape, measure

DEFAULT_SHAPE = Shape()
#: Data per node Cassandra operators commonly plan for (compaction and repair stay manageable).
NODE_DENSITY = 2e12
_DEMO_SETS, _DEMO_DAYS, _DEMO_LAST_MONTH = 500_000, 730, 0.11637
SCENARIOS: dict[str, tuple[Workload, Shape]] = {
    # The sample generator's ledger (seed 7) posted live: 500,000 sets over 24 months, growing 16x,
    # so its last month (11.6% of the sets) is the busiest; shares counted on 50,000 of its sets.
    "demo": (
        Workload(
            "demo: the sample ledger, 500,000 sets over 24 months",
            accounts=604,
            sets_per_second=_DEMO_SETS * _DEMO_LAST_MONTH / (30.44 * 86_400),
            legs_per_set=2.1517,
            hot_shares=(0.2013, 0.0518, 0.0514, 0.0334, 0.0332),
            rollups=27,
            largest_rollup_share=400 / 599,
            days_kept=_DEMO_DAYS,
            replication=1,
            nodes=1,
            average_share=1 / (_DEMO_LAST_MONTH * 24),
        ),
        Shape(),
    ),
    # What the issue measured: one hot account with 250,000 entries in one month, 5,000 others.
    "measured": (
        Workload(
            "measured: 250,000 sets in a month, one hot account, 5,000 others",
            accounts=5_001,
            sets_per_second=250_000 / (31 * 86_400),
            legs_per_set=2,
            hot_shares=(0.5,),
            rollups=2,
            largest_rollup_share=1.0,
            days_kept=31,
            replication=1,
            nodes=1,
        ),
        Shape(),
    ),
    "fintech": (
        Workload(
            "fintech: 1M accounts, 200 sets/s peak, 3 years kept, RF 3 on 6 nodes",
            accounts=1_000_000,
            sets_per_second=200,
            legs_per_set=2.2,
            hot_shares=(0.20, 0.05, 0.05),
            rollups=60,
            largest_rollup_share=0.7,
            days_kept=1_096,
            replication=3,
            nodes=6,
            busy_share=0.5,
            average_share=0.35,
            future_share=0.01,
        ),
        Shape(account_id="cust-{:010d}"),
    ),
    "monzo": (
        Workload(
            "monzo-like: 20M accounts, 2,000 sets/s peak, top account on 30% of legs, 7 years, "
            "3 DCs x RF 3 on 30 nodes",
            accounts=20_000_000,
            sets_per_second=2_000,
            legs_per_set=2.2,
            hot_shares=(0.30, 0.05, 0.03),
            rollups=500,
            largest_rollup_share=0.8,
            days_kept=2_557,
            replication=9,
            nodes=30,
            busy_share=0.5,
            average_share=0.35,
            sets_per_write=2,
            future_share=0.01,
        ),
        Shape("monzo_uk", "com.monzo.customer", "current_account", "GBP", "acc_{:022d}"),
    ),
}


@dataclass(frozen=True, slots=True)
class Row:
    """One table's figures in one layout."""

    table: str
    key: str
    partitions: float
    largest_rows: int
    largest_mb: float
    p99_rows: int
    p99_mb: float
    within_bound: bool
    hottest_writes: float


@dataclass(frozen=True, slots=True)
class Node:
    """What one node carries in one layout (every row replicated ``replication`` times)."""

    writes_per_second: float
    hottest_partition_writes: float
    storage_gb: float
    nodes_at_2tb: int


def figures(tables: list[TableModel]) -> list[Row]:
    """The report's rows of a layout's tables."""
    return [
        Row(
            t.table,
            t.key,
            round(t.partitions),
            whole(t.largest()),
            t.bytes_of(t.largest()) / 1e6,
            whole(t.p99()),
            t.bytes_of(t.p99()) / 1e6,
            t.within_bound(),
            t.hottest_writes,
        )
        for t in tables
    ]


def per_node(w: Workload, tables: list[TableModel]) -> Node:
    """Row writes per second at peak and storage per node, rows spread evenly over the ring; the
    busiest partition's writes land whole on each of its replicas."""
    share = w.replication / w.nodes
    stored = sum(t.stored() for t in tables) * w.replication
    return Node(
        sum(t.writes for t in tables) * share,
        max(t.hottest_writes for t in tables),
        stored / w.nodes / 1e9,
        math.ceil(stored / NODE_DENSITY),
    )


@dataclass(frozen=True, slots=True)
class Result:
    """Both layouts of one scenario."""

    workload: Workload
    today: list[Row]
    proposed: list[Row]
    today_node: Node
    proposed_node: Node
    choices: Choices


def model(workload: Workload, shape: Shape = DEFAULT_SHAPE) -> Result:
    """The scale model of one workload: a pure function of its parameters (and the encoding)."""
    sizes = measure(shape)
    now = today(workload, sizes)
    new, choices = proposed(workload, sizes)
    return Result(
        workload, figures(now), figures(new), per_node(workload, now), per_node(workload, new), choices
    )


#: Tables of the proposed layout that take the place of one of today's.
_REPLACES = {"future_days": "future_activity"}


def human(megabytes: float) -> str:
    """Bytes for a person: MB below a GB, then GB, then TB."""
    for unit, size in (("TB", 1e6), ("GB", 1e3)):
        if megabytes >= size:
            return f"{megabytes / size:,.1f} {unit}"
    return f"{megabytes:.2f} MB"


def _cell(rows: int, mb: float) -> str:
    return f"{rows:>14,} {human(mb):>10}"


def render(result: Result) -> str:
    """A scenario as text: one line per table, today's layout beside the proposed one."""
    w = result.workload
    lines = [
        f"== {w.name}",
        f"{'table':<16} {'today: largest':>14} {'bytes':>10} {'p99 rows':>14} {'bytes':>10} ok | "
        f"{'proposed key':<34} {'largest':>14} {'bytes':>10} {'p99 rows':>14} {'bytes':>10} ok",
    ]
    old = {row.table: row for row in result.today}
    for new in result.proposed:
        before = old.get(_REPLACES.get(new.table, new.table))
        left = (
            f"{_cell(before.largest_rows, before.largest_mb)} {_cell(before.p99_rows, before.p99_mb)} "
            f"{'y ' if before.within_bound else 'NO'}"
            if before
            else f"{'(new table)':>51}   "
        )
        right = f"{_cell(new.largest_rows, new.largest_mb)} {_cell(new.p99_rows, new.p99_mb)}"
        lines.append(f"{new.table:<16} {left} | {new.key:<34} {right} {'y ' if new.within_bound else 'NO'}")
    for label, node in (("today", result.today_node), ("proposed", result.proposed_node)):
        lines.append(
            f"{label:>9}: {node.writes_per_second:,.0f} row writes/s per node at peak, busiest partition "
            f"{node.hottest_partition_writes:,.1f} writes/s on each of its replicas, "
            f"{node.storage_gb:,.0f} GB per node ({node.nodes_at_2tb:,} nodes at 2 TB each)"
        )
    c = result.choices
    splits = ", ".join(f"{s.granularity} x {s.subs}" for s in c.hot)
    lines.append(
        f"   splits: hot accounts [{splits}]; claim shards {c.claim_shards:,}; log slots {c.log_slots}; "
        f"rollup parts {c.rollup_parts}"
    )
    return "\n".join(lines)


def as_json(result: Result) -> dict[str, Any]:
    """A scenario as JSON-ready data."""
    return {**asdict(result), "bound": {"rows": BOUND_ROWS, "bytes": BOUND_BYTES}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    results = [model(*SCENARIOS[name]) for name in names]
    if args.json:
        print(json.dumps({n: as_json(r) for n, r in zip(names, results, strict=True)}, indent=1))
    else:
        print("\n\n".join(render(r) for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
