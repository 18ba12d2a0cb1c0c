"""The rows a transaction implies: the one-pass materialisation against the obvious one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from ledger_tui.domain.blocks import SealPolicy, account_node, day_of, day_start, node_key, rollup_node
from ledger_tui.domain.materialise import Materialisation, is_future_dated, materialise
from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.timeutil import bucket_of

BASE = datetime(2026, 3, 1, tzinfo=UTC)
_PART = st.sampled_from(["a", "b"])
_ADDRESS = st.builds(Address, _PART, _PART, _PART, st.sampled_from(["GBP", "JPY"]), _PART)
_MOMENT = st.integers(-5 * 86_400, 5 * 86_400).map(lambda seconds: BASE + timedelta(seconds=seconds))
_LEG = st.builds(
    Leg,
    address=_ADDRESS,
    side=st.sampled_from(Side),
    amount=st.just(Decimal("1.00")),
    effective_at=st.none() | _MOMENT,
)
_TRANSACTION = st.builds(
    RecordedTransaction,
    transaction_id=st.uuids(),
    legs=st.lists(_LEG, min_size=1, max_size=4).map(tuple),
    payload_hash=st.just("h"),
    recorded_at=_MOMENT,
)


def obvious(
    transactions: list[RecordedTransaction], policy: SealPolicy, completed_at: datetime | None
) -> Materialisation:
    """Each kind of row computed on its own, straight from the rules, every node key encoded anew."""
    entries = [entry for transaction in transactions for entry in transaction.entries()]
    marks: dict[tuple[str, int], datetime] = {}
    for entry in entries:
        mark = entry.recorded_at if policy.is_late(entry.effective_at, entry.recorded_at) else None
        if completed_at is not None and completed_at >= entry.recorded_at + policy.margin:
            mark = completed_at
        if mark is not None:
            day = day_of(entry.effective_at)
            parts = entry.address.as_tuple()
            for node in (node_key(parts), node_key(parts[:4])):
                marks[(node, day)] = max(mark, marks.get((node, day), mark))
    tree = {
        (node_key(entry.address.as_tuple()[:depth]), entry.address.as_tuple()[depth])
        for entry in entries
        for depth in range(5)
    }
    return Materialisation(
        entries=entries,
        tree=tree,
        buckets={(entry.address, bucket_of(entry.effective_at)) for entry in entries},
        activity={
            (node_key(e.address.as_tuple()[:4]), day_of(e.effective_at), e.address.account_id)
            for e in entries
        },
        future={
            (node_key(e.address.as_tuple()[:4]), day_of(e.effective_at), e.address.account_id)
            for e in entries
            if is_future_dated(e.effective_at, e.recorded_at)
        },
        marks=marks,
    )


@given(
    st.lists(_TRANSACTION, max_size=6),
    st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(hours=36)]),
    st.none() | _MOMENT,
)
def test_one_pass_materialisation_is_the_obvious_rows(
    transactions: list[RecordedTransaction], horizon: timedelta, completed_at: datetime | None
) -> None:
    """Same entries, index rows, activity, future rows and late marks as computing each apart."""
    policy = SealPolicy(horizon=horizon)
    assert materialise(transactions, policy, completed_at) == obvious(transactions, policy, completed_at)


def test_node_keys_are_remembered_per_address_and_equal_the_encoding() -> None:
    """The remembered node keys are the JSON path keys (a cache must never change a key)."""
    address = Address("le", "ns", "name", "GBP", str(uuid.uuid4()))
    assert account_node(address) == node_key(address.as_tuple()) == account_node(address)
    assert rollup_node(address) == node_key(address.as_tuple()[:4]) == rollup_node(address)


_HORIZONS = st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(hours=36)])
_ZONES = st.sampled_from(
    [UTC, ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
)


@given(
    st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1), timezones=_ZONES),
    st.integers(-3, 3),
    _HORIZONS | st.timedeltas(timedelta(0), timedelta(days=3)),
)
@example(datetime(2024, 4, 1, 0, 30, tzinfo=ZoneInfo("Europe/London")), -1, timedelta(days=1))  # summer time
@example(day_start(20_002), -2, timedelta(days=1))  # recorded exactly when day 20,000 turns late
@example(day_start(20_002) - timedelta(microseconds=1), -2, timedelta(days=1))  # just before
def test_late_before_is_is_late_in_day_numbers(
    recorded_at: datetime, offset: int, horizon: timedelta
) -> None:
    """For any aware recording time (any zone, summer time too) and entry day near it: late
    exactly when the day is before ``late_before``, as ``is_late`` decides it per entry."""
    policy = SealPolicy(horizon=horizon)
    day = day_of(recorded_at) + offset
    for effective_at in (day_start(day), day_start(day + 1) - timedelta(microseconds=1)):
        assert policy.is_late(effective_at, recorded_at) == (day < policy.late_before(recorded_at))
        # Sealable before a cutoff: every entry of the day recorded from then on is late.
        assert (policy.late_after(day) <= recorded_at) == (day < policy.sealable_until(recorded_at))
