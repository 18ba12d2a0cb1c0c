"""Account layouts: partition names agree with the month buckets every reader uses, a period's span
holds every instant named by it, and the layout in force is the newest one recorded by then."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.domain.layout import (
    AUTO_SUBS,
    MAX_SUBS,
    AccountLayout,
    Layouts,
    holds_more,
    layout_for_traffic,
    layout_from_setting,
    layout_setting,
    month_of,
    partition_name,
    period_name,
    period_of,
    period_span_ms,
    sub_of,
)
from ledger_tui.domain.model import Address
from ledger_tui.domain.timeutil import bucket_of, from_epoch_ms
from ledger_tui.store.cassandra.buckets import intervals

HOT = Address("fin_uk", "com.fin.house", "settlement", "GBP", "main")
#: 1900-01-01 .. 2200-01-01 in epoch milliseconds.
INSTANTS = st.integers(min_value=-2_208_988_800_000, max_value=7_258_118_400_000)


@given(INSTANTS, st.sampled_from(["month", "day", "hour"]), st.integers(1, 256), st.uuids())
def test_a_partition_names_its_month_and_a_period_holding_the_instant(
    effective_ms: int, bucket: str, subs: int, txid: uuid.UUID
) -> None:
    name = partition_name(period_name(effective_ms, bucket), subs, txid)
    assert month_of(name) == bucket_of(from_epoch_ms(effective_ms))
    low, high = period_span_ms(period_of(name))
    assert low <= effective_ms < high
    assert high - low == {"hour": 3_600_000, "day": 86_400_000}.get(bucket, high - low)
    if subs == 1:
        assert name == period_of(name)
    else:
        assert int(name.rsplit("~", 1)[1]) == sub_of(txid, subs) < subs


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=6, unique=True), st.integers(-5, 10_005))
def test_the_layout_in_force_is_the_newest_recorded_by_then(sinces: list[int], recorded: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    changes = [
        AccountLayout(HOT, start + timedelta(milliseconds=s), "day", n + 2) for n, s in enumerate(sinces)
    ]
    found = Layouts(changes).at(HOT, int(start.timestamp() * 1000) + recorded)
    earlier = [c for c, s in zip(changes, sinces, strict=True) if s <= recorded]
    assert found == (max(earlier, key=lambda c: c.since) if earlier else None)
    assert Layouts(changes).at(Address("a", "b", "c", "GBP", "d"), 10**15) is None


def test_a_layout_survives_its_setting_form() -> None:
    change = AccountLayout(HOT, datetime(2026, 12, 7, 10, 0, 0, 123000, tzinfo=UTC), "hour", 96)
    assert layout_from_setting(*layout_setting(change)) == change


def _slow_intervals(
    partitions: tuple[str, ...], start: int, end: int
) -> list[tuple[int, int, tuple[int, ...]]]:
    spans = [period_span_ms(period_of(p)) for p in partitions]
    cuts = sorted({start, end, *(edge for span in spans for edge in span if start < edge < end)})
    found = []
    for low, high in itertools.pairwise(cuts):
        members = tuple(i for i, (a, b) in enumerate(spans) if a < high and low < b)
        if members:
            found.append((low, high, members))
    return found


_DECEMBER = period_span_ms("2026-12")
_NAMES = ["2026-12", "2026-12~001", "2026-12-07", "2026-12-07~002", "2026-12-07T10~000", "2026-12-07T10~003"]
_NAMES += ["2026-12-31T23", "2026-12-08T00~001", "2026-12-08"]


@given(
    st.lists(st.sampled_from(_NAMES), min_size=1, unique=True),
    st.integers(_DECEMBER[0] - 10**8, _DECEMBER[1] + 10**8),
    st.integers(0, 4 * 10**9),
)
def test_the_spans_a_month_is_read_by_are_those_of_a_plain_cut(
    names: list[str], start: int, length: int
) -> None:
    partitions = tuple(names)
    assert intervals(partitions, start, start + length) == _slow_intervals(partitions, start, start + length)


@given(st.integers(0, 50_000_000), st.integers(1_000, 100_000))
def test_a_split_chosen_for_traffic_is_the_coarsest_that_fits(day: int, rows: int) -> None:
    chosen = layout_for_traffic(day, rows)
    per_bucket = {"month": day * 31, "day": day, "hour": -(-day * 3 // 24)}
    if chosen is None:
        assert day * 31 <= rows
        return
    bucket, subs = chosen
    assert per_bucket[bucket] / subs <= rows or subs == MAX_SUBS
    coarser = list(per_bucket)[: list(per_bucket).index(bucket)]
    assert all(-(-per_bucket[b] // rows) > AUTO_SUBS for b in coarser)
    assert holds_more(None, bucket, subs)
