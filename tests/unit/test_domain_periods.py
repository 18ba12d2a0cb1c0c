"""Chart periods: consecutive day / ISO week / month spans covering a half-open UTC range."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.timeutil import MAX_PERIODS, Granularity, TimeRange, bucket_of, periods


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def spans(start: datetime, end: datetime, granularity: Granularity) -> list[tuple[datetime, datetime]]:
    result = []
    for period in periods(TimeRange(start, end), granularity):
        assert period.start is not None and period.end is not None
        result.append((period.start, period.end))
    return result


def test_granularity_values() -> None:
    assert [g.value for g in Granularity] == ["day", "week", "month"]
    assert Granularity("week") is Granularity.WEEK


def test_days_clip_first_and_last() -> None:
    assert spans(utc(2024, 10, 1, 10), utc(2024, 10, 4, 6), Granularity.DAY) == [
        (utc(2024, 10, 1, 10), utc(2024, 10, 2)),
        (utc(2024, 10, 2), utc(2024, 10, 3)),
        (utc(2024, 10, 3), utc(2024, 10, 4)),
        (utc(2024, 10, 4), utc(2024, 10, 4, 6)),
    ]


def test_days_inside_one_day_and_aligned_days() -> None:
    assert spans(utc(2024, 10, 1, 10), utc(2024, 10, 1, 11), Granularity.DAY) == [
        (utc(2024, 10, 1, 10), utc(2024, 10, 1, 11))
    ]
    assert spans(utc(2024, 2, 28), utc(2024, 3, 1), Granularity.DAY) == [
        (utc(2024, 2, 28), utc(2024, 2, 29)),
        (utc(2024, 2, 29), utc(2024, 3, 1)),
    ]


def test_weeks_start_on_iso_monday() -> None:
    # 2 Oct 2024 is a Wednesday; 7, 14 and 21 Oct are Mondays.
    assert utc(2024, 10, 7).isoweekday() == 1
    assert spans(utc(2024, 10, 2, 12), utc(2024, 10, 20), Granularity.WEEK) == [
        (utc(2024, 10, 2, 12), utc(2024, 10, 7)),
        (utc(2024, 10, 7), utc(2024, 10, 14)),
        (utc(2024, 10, 14), utc(2024, 10, 20)),
    ]
    # A Sunday start belongs to the week that began the Monday before.
    assert spans(utc(2024, 10, 6), utc(2024, 10, 8), Granularity.WEEK) == [
        (utc(2024, 10, 6), utc(2024, 10, 7)),
        (utc(2024, 10, 7), utc(2024, 10, 8)),
    ]
    # Weeks run across month and year ends.
    assert spans(utc(2024, 12, 30), utc(2025, 1, 13), Granularity.WEEK) == [
        (utc(2024, 12, 30), utc(2025, 1, 6)),
        (utc(2025, 1, 6), utc(2025, 1, 13)),
    ]


def test_months() -> None:
    assert spans(utc(2024, 9, 15), utc(2024, 10, 10), Granularity.MONTH) == [
        (utc(2024, 9, 15), utc(2024, 10, 1)),
        (utc(2024, 10, 1), utc(2024, 10, 10)),
    ]
    assert spans(utc(2024, 10, 1), utc(2024, 11, 1), Granularity.MONTH) == [
        (utc(2024, 10, 1), utc(2024, 11, 1))
    ]
    assert spans(utc(2024, 11, 20), utc(2025, 2, 1), Granularity.MONTH) == [
        (utc(2024, 11, 20), utc(2024, 12, 1)),
        (utc(2024, 12, 1), utc(2025, 1, 1)),
        (utc(2025, 1, 1), utc(2025, 2, 1)),
    ]
    assert spans(utc(2024, 1, 31), utc(2024, 3, 1), Granularity.MONTH) == [
        (utc(2024, 1, 31), utc(2024, 2, 1)),
        (utc(2024, 2, 1), utc(2024, 3, 1)),
    ]


@pytest.mark.parametrize("granularity", list(Granularity))
def test_empty_range_has_no_periods(granularity: Granularity) -> None:
    assert periods(TimeRange(utc(2024, 9, 30), utc(2024, 9, 30)), granularity) == []  # a Monday
    # Away from a period boundary: still no zero-width period for an empty range.
    assert periods(TimeRange(utc(2024, 10, 2, 5), utc(2024, 10, 2, 5)), granularity) == []


@pytest.mark.parametrize("granularity", list(Granularity))
def test_open_ranges_are_refused(granularity: Granularity) -> None:
    for open_range in (TimeRange(), TimeRange(utc(2024, 1, 1)), TimeRange(None, utc(2024, 1, 1))):
        with pytest.raises(ValueError, match="bounded date range"):
            periods(open_range, granularity)


def test_too_many_periods_is_refused() -> None:
    start = utc(2000, 1, 1)
    assert len(periods(TimeRange(start, start + timedelta(days=MAX_PERIODS)), Granularity.DAY)) == MAX_PERIODS
    with pytest.raises(ValueError, match="coarser granularity"):
        periods(TimeRange(start, start + timedelta(days=MAX_PERIODS + 1)), Granularity.DAY)
    assert (
        len(periods(TimeRange(start, start + timedelta(days=MAX_PERIODS + 1)), Granularity.WEEK))
        < MAX_PERIODS
    )


instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
)
# Non-empty ranges only; the empty range has its own example test above.
durations = st.one_of(
    st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(hours=50)),
    st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=1500)),
)
MIDNIGHT = (0, 0, 0, 0)


def _clock(moment: datetime) -> tuple[int, int, int, int]:
    return (moment.hour, moment.minute, moment.second, moment.microsecond)


@settings(max_examples=200, deadline=None)
@given(start=instants, duration=durations, granularity=st.sampled_from(list(Granularity)))
def test_periods_tile_the_range(start: datetime, duration: timedelta, granularity: Granularity) -> None:
    end = start + duration
    result = spans(start, end, granularity)
    assert result[0][0] == start
    assert result[-1][1] == end
    for (_, previous_end), (next_start, _) in itertools.pairwise(result):
        assert previous_end == next_start  # no gaps, no overlaps
    for period_start, period_end in result:
        assert period_start < period_end
        assert period_start.tzinfo is not None and period_start.utcoffset() == timedelta(0)
    # Every boundary strictly inside the range is aligned to the granularity.
    for boundary in [s for s, _ in result[1:]]:
        assert _clock(boundary) == MIDNIGHT
        if granularity is Granularity.WEEK:
            assert boundary.isoweekday() == 1
        if granularity is Granularity.MONTH:
            assert boundary.day == 1
    # Each period lies within one day / ISO week / month, and only the ends may be partial.
    last_instant = [(s, e - timedelta(microseconds=1)) for s, e in result]
    for index, (first, last) in enumerate(last_instant):
        if granularity is Granularity.DAY:
            assert first.date() == last.date()
            full = result[index][1] - result[index][0] == timedelta(days=1)
        elif granularity is Granularity.WEEK:
            assert first.isocalendar()[:2] == last.isocalendar()[:2]
            full = result[index][1] - result[index][0] == timedelta(days=7)
        else:
            assert bucket_of(first) == bucket_of(last)
            full = (
                result[index][0].day == 1
                and _clock(result[index][0]) == MIDNIGHT
                and (result[index][1].day == 1 and _clock(result[index][1]) == MIDNIGHT)
            )
        if 0 < index < len(result) - 1:
            assert full
