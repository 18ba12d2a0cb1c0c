"""The scale model against counted partitions: small ledgers materialised by the package itself.

Each case builds a ledger that follows the model's assumptions exactly (hot accounts with fixed
legs a day, ordinary legs dealt evenly, sequential ids), materialises it with ``materialise``,
keys every row as the schema does and counts the partitions of each table.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import scale_proposed
from bench.scale_layouts import BOUND_BYTES, BOUND_ROWS, TableModel, Workload, today, whole
from bench.scale_model import SCENARIOS, main, model
from bench.scale_proposed import part_of, proposed, sub_of
from bench.scale_rows import Shape, measure, row_bytes, schema_tables, value_bytes
from ledger_tui.domain.blocks import SealPolicy, account_node, day_of, node_key, rollup_node
from ledger_tui.domain.claims import shard_of
from ledger_tui.domain.materialise import Materialisation, materialise
from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.timeutil import bucket_of

START = datetime(2026, 1, 1, tzinfo=UTC)
SIZES = measure(Shape())


def ledger(
    hot: list[int], ordinary: int, per_account: int, largest: int, rollups: int, days: int, legs: int
) -> tuple[list[RecordedTransaction], Workload]:
    """A ledger of ``days`` days from 2026-01-01: hot account i gets ``hot[i]`` legs a day, every
    ordinary account ``per_account``; the largest ordinary rollup holds ``largest`` accounts, the
    others are dealt round the remaining rollups; sets of ``legs`` legs, ids 0, 1, 2, ..."""
    houses = [Address("bank", f"house{i}", "main", "GBP", "*") for i in range(len(hot))]
    others = rollups - len(hot)
    customers = [
        Address(
            "bank", f"ns{0 if k < largest else 1 + (k - largest) % (others - 1)}", "current", "GBP", f"c{k}"
        )
        for k in range(ordinary)
    ]
    stream = [a for a, n in zip(houses, hot, strict=True) for _ in range(n)] + customers * per_account
    per_day = len(stream) // legs
    sets: list[RecordedTransaction] = []
    for day in range(days):
        for index in range(per_day):
            at = START + timedelta(days=day, milliseconds=index * (86_400_000 // per_day))
            chosen = stream[index * legs : (index + 1) * legs]
            sides = [Side.DEBIT, Side.CREDIT]
            set_legs = tuple(Leg(a, sides[i % 2], Decimal("1.00"), "x", at) for i, a in enumerate(chosen))
            sets.append(RecordedTransaction(uuid.UUID(int=len(sets)), set_legs, "h", at))
    total = len(stream)
    workload = Workload(
        "counted",
        accounts=ordinary + len(hot),
        sets_per_second=total / legs / 86_400,
        legs_per_set=legs,
        hot_shares=tuple(n / total for n in hot),
        rollups=rollups,
        largest_rollup_share=largest / ordinary,
        days_kept=days,
        replication=1,
        nodes=1,
    )
    return sets, workload


def sizes(keys: Iterable[Hashable]) -> Counter[Hashable]:
    return Counter(keys)


def counted(sets: list[RecordedTransaction], rows: Materialisation) -> dict[str, Counter[Hashable]]:
    """Rows per partition of every table today's layout writes for ``sets``."""
    nodes = {(account_node(e.address), day_of(e.effective_at)) for e in rows.entries}
    nodes |= {(rollup_node(e.address), day_of(e.effective_at)) for e in rows.entries}
    return {
        "ledger_entries": sizes((e.address, bucket_of(e.effective_at)) for e in rows.entries),
        "entry_sets": sizes(shard_of(t.transaction_id, 8) for t in sets),
        "account_tree": sizes(parent for parent, _child in rows.tree),
        "account_buckets": sizes(address for address, _bucket in rows.buckets),
        "day_activity": sizes((node, day) for node, day, _account in rows.activity),
        "balance_blocks": sizes(node for node, _day in nodes),
        "seal_state": sizes({node for node, _day in nodes}),
    }


def by_name(tables: list[TableModel]) -> dict[str, TableModel]:
    return {table.table: table for table in tables}


@settings(max_examples=25, deadline=None)
@given(
    hot=st.lists(st.integers(1, 40), min_size=1, max_size=3),
    ordinary=st.integers(4, 30),
    per_account=st.integers(1, 3),
    other_rollups=st.integers(1, 4),
    days=st.integers(1, 31),
    legs=st.sampled_from([1, 2, 3]),
    data=st.data(),
)
def test_todays_largest_partition_and_partition_count_equal_the_counted_ones(
    hot: list[int],
    ordinary: int,
    per_account: int,
    other_rollups: int,
    days: int,
    legs: int,
    data: st.DataObject,
) -> None:
    rest = other_rollups - 1
    # The largest rollup is at least as big as any other (the model's largest is the first).
    least = math.ceil(ordinary / other_rollups) if rest else ordinary
    largest = ordinary if not rest else data.draw(st.integers(least, ordinary - rest))
    total = sum(hot) + ordinary * per_account
    legs = legs if total % legs == 0 else 1
    sets, workload = ledger(hot, ordinary, per_account, largest, len(hot) + other_rollups, days, legs)
    counts = counted(sets, materialise(sets, SealPolicy()))
    modelled = by_name(today(workload, SIZES))
    for table, partitions in counts.items():
        assert whole(modelled[table].largest()) == max(partitions.values()), table
        assert round(modelled[table].partitions) == len(partitions), table


def test_the_issues_measurement_is_what_the_model_gives() -> None:
    """One hot account with 250,000 entries in a month and 5,000 ordinary accounts (the issue
    counted 250,000, 31,595 with random ids, 5,000 and 5,000)."""
    rows = {row.table: row.largest_rows for row in model(*SCENARIOS["measured"]).today}
    assert rows["ledger_entries"] == 250_000
    assert rows["entry_sets"] == 31_250
    assert rows["day_activity"] == rows["account_tree"] == 5_000


@pytest.mark.parametrize("name", ["demo", "fintech", "monzo", "measured"])
def test_every_proposed_partition_is_within_the_bound(name: str) -> None:
    result = model(*SCENARIOS[name])
    for row in result.proposed:
        assert row.within_bound and row.largest_rows <= BOUND_ROWS, row
        assert row.largest_mb * 1e6 <= BOUND_BYTES, row


def test_today_breaks_the_bound_at_scale() -> None:
    broken = {row.table for row in model(*SCENARIOS["monzo"]).today if not row.within_bound}
    assert {"ledger_entries", "entry_sets", "account_tree", "day_activity", "claim_windows"} <= broken


def test_proposed_splits_hold_the_counted_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a target of 100 rows and at most 2 subs a bucket, a small ledger's hot account (360
    rows a month: day buckets of 2 subs), claims and rollup are split, and the partitions counted
    with the proposed keys stay near the target (hashes spread unevenly: within four standard
    deviations)."""
    monkeypatch.setattr(scale_proposed, "TARGET_ROWS", 100)
    monkeypatch.setattr(scale_proposed, "MAX_SUBS", 2)
    sets, workload = ledger([120], 300, 1, 300, 2, 3, 2)
    rows = materialise(sets, SealPolicy())
    tables, choices = proposed(workload, SIZES)
    modelled = by_name(tables)
    split = choices.hot[0]
    assert split.granularity == "day" and split.subs == 2
    hot = Address("bank", "house0", "main", "GBP", "*")
    entries = sizes(
        (e.address, e.effective_at.date(), sub_of(e.transaction_id, split.subs))
        for e in rows.entries
        if e.address == hot
    )
    claims = sizes(shard_of(t.transaction_id, choices.claim_shards) for t in sets)
    parts = choices.rollup_parts
    activity = sizes((node, day, part_of(account, parts)) for node, day, account in rows.activity)
    tree = sizes(
        (p, part_of(c, parts)) for p, c in rows.tree if p == node_key(("bank", "ns0", "current", "GBP"))
    )
    for table, found in (("ledger_entries", entries), ("entry_sets", claims), ("day_activity", activity),
                         ("account_tree", tree)):  # fmt: skip
        largest = modelled[table].largest()
        assert max(found.values()) <= largest + 4 * math.sqrt(largest) + 1, table
    assert max(claims.values()) == whole(modelled["entry_sets"].largest())
    assert len(claims) == modelled["entry_sets"].partitions


def test_row_bytes_follow_the_encoding() -> None:
    """An entry row: clustering (8 + 16 + 4), side, amount, description, recorded time, with the
    storage format's row, clustering and cell overheads."""
    table = schema_tables()["ledger_entries"]
    values = {"effective_at": 0, "transaction_id": uuid.UUID(int=1), "leg": 0, "side": "debit",
              "amount": Decimal("12.34"), "description": "Tesco", "recorded_at": 0}  # fmt: skip
    assert value_bytes("decimal", Decimal("12.34")) == 4 + 2
    expected = 10 + 1 + (8 + 16 + 4) + (1 + 1 + 5) + (1 + 1 + 6) + (1 + 1 + 5) + (1 + 8)
    assert row_bytes(table, values) == expected


def test_the_cli_prints_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "demo"]) == 0
    assert "ledger_entries" in capsys.readouterr().out
    assert main(["--scenario", "measured", "--json"]) == 0
    assert '"entry_sets"' in capsys.readouterr().out
