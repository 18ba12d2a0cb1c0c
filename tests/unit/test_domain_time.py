"""UTC instants, monthly buckets and half-open ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.timeutil import (
    DAY_MS,
    EPOCH,
    MAX_EPOCH_MS,
    Granularity,
    TimeRange,
    as_utc,
    bucket_after,
    bucket_of,
    bucket_of_day,
    bucket_start,
    from_epoch_ms,
    month_range,
    months_between,
    parse_instant,
    periods,
    step_bucket,
    to_epoch_ms,
    truncate_to_ms,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# --- buckets ----------------------------------------------------------------------------------


def test_bucket_is_the_utc_month() -> None:
    assert bucket_of(datetime(2024, 9, 30, 23, 30, tzinfo=offset(-2))) == "2024-10"
    assert bucket_of(datetime(2024, 10, 1, 0, 30, tzinfo=offset(2))) == "2024-09"
    assert bucket_of(utc(2024, 10, 1)) == "2024-10"
    assert bucket_of(utc(2024, 9, 30, 23, 59, 59, 999999)) == "2024-09"
    assert bucket_of(utc(1970, 1, 1)) == "1970-01"
    assert bucket_of(utc(9999, 12, 31, 23, 59)) == "9999-12"
    assert bucket_of(utc(999, 3, 1)) == "0999-03"  # always four-digit years, so text order is time order


def test_bucket_start_and_next_bucket() -> None:
    assert bucket_start("2024-10") == utc(2024, 10, 1)
    assert bucket_start("2024-02").tzinfo is UTC
    assert bucket_after("2024-01") == "2024-02"
    assert bucket_after("2024-09") == "2024-10"
    assert bucket_after("2024-11") == "2024-12"
    assert bucket_after("2024-12") == "2025-01"
    assert bucket_after("0999-12") == "1000-01"


def test_months_between_includes_both_ends() -> None:
    assert list(months_between("2024-09", "2024-10")) == ["2024-09", "2024-10"]
    assert list(months_between("2024-11", "2025-02")) == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert list(months_between("2024-10", "2024-10")) == ["2024-10"]
    assert list(months_between("2024-11", "2024-10")) == []
    assert len(list(months_between("2000-01", "2024-12"))) == 25 * 12


# --- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (utc(2024, 9, 15), utc(2024, 10, 10), ["2024-09", "2024-10"]),
        (utc(2024, 1, 31), utc(2024, 2, 1, 0, 0, 0, 1), ["2024-01", "2024-02"]),
        (utc(2024, 1, 31), utc(2024, 2, 15), ["2024-01", "2024-02"]),
        (utc(2024, 9, 15), utc(2024, 10, 1), ["2024-09"]),  # end at a boundary does not read October
        (utc(2024, 9, 1), utc(2024, 10, 1), ["2024-09"]),
        (utc(2024, 9, 30, 23, 59, 59, 999999), utc(2024, 10, 1), ["2024-09"]),
        (utc(2024, 10, 1), utc(2024, 10, 1, 0, 0, 0, 1), ["2024-10"]),
        (utc(2024, 12, 20), utc(2025, 1, 5), ["2024-12", "2025-01"]),
        (utc(2024, 11, 1), utc(2025, 3, 1), ["2024-11", "2024-12", "2025-01", "2025-02"]),
        (utc(2024, 10, 1), utc(2024, 10, 1), []),
        (
            datetime(2024, 9, 30, 23, 30, tzinfo=offset(-2)),  # 2024-10-01T01:30Z
            datetime(2024, 10, 31, 23, 30, tzinfo=offset(-2)),  # 2024-11-01T01:30Z
            ["2024-10", "2024-11"],
        ),
    ],
)
def test_range_buckets(start: datetime, end: datetime, expected: list[str]) -> None:
    time_range = TimeRange(start, end)
    assert time_range.buckets() == expected
    assert time_range.is_empty == (expected == [])


def test_range_validation() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeRange(datetime(2024, 1, 1), None)
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeRange(None, datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="end is before its start"):
        TimeRange(utc(2024, 2, 1), utc(2024, 1, 1))
    for open_range in (TimeRange(), TimeRange(utc(2024, 1, 1)), TimeRange(None, utc(2024, 1, 1))):
        with pytest.raises(ValueError, match="bounded range"):
            open_range.buckets()


def test_contains_is_half_open() -> None:
    time_range = TimeRange(utc(2024, 9, 1), utc(2024, 10, 1))
    assert time_range.contains(utc(2024, 9, 1))
    assert time_range.contains(utc(2024, 9, 30, 23, 59, 59, 999999))
    assert not time_range.contains(utc(2024, 10, 1))
    assert not time_range.contains(utc(2024, 8, 31, 23, 59, 59, 999999))
    assert time_range.contains(datetime(2024, 10, 1, 1, 0, tzinfo=offset(2)))  # 23:00Z on 30 Sep
    assert TimeRange().contains(utc(1970, 1, 1))
    assert TimeRange(None, utc(2024, 1, 1)).contains(utc(1999, 1, 1))
    assert not TimeRange(utc(2024, 1, 1), None).contains(utc(2023, 12, 31))
    assert not TimeRange(utc(2024, 1, 1), utc(2024, 1, 1)).contains(utc(2024, 1, 1))


def test_touches_bucket_open_ended() -> None:
    assert TimeRange().touches_bucket("1970-01")
    assert TimeRange(utc(2024, 9, 15)).touches_bucket("2024-09")
    assert not TimeRange(utc(2024, 9, 15)).touches_bucket("2024-08")
    assert TimeRange(None, utc(2024, 9, 15)).touches_bucket("2024-09")
    assert not TimeRange(None, utc(2024, 10, 1)).touches_bucket("2024-10")
    assert not TimeRange(utc(2024, 9, 15), utc(2024, 9, 15)).touches_bucket("2024-09")


fixed_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9990, 1, 1), timezones=fixed_offsets
)
durations = st.one_of(
    st.just(timedelta(0)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(seconds=2)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800)),
)


def _months_around(start: datetime, end: datetime) -> list[str]:
    first = bucket_of(start - timedelta(days=62))
    last = bucket_of(end + timedelta(days=62))
    return list(months_between(first, last))


@settings(max_examples=300, deadline=None)
@given(start=instants, duration=durations)
def test_buckets_are_exactly_the_months_the_range_touches(start: datetime, duration: timedelta) -> None:
    end = start + duration
    time_range = TimeRange(start, end)
    buckets = time_range.buckets()
    for bucket in _months_around(start, end):
        # Independent definition: [bucket start, next bucket start) overlaps [start, end).
        overlaps = max(start, bucket_start(bucket)) < min(end, bucket_start(bucket_after(bucket)))
        assert time_range.touches_bucket(bucket) == overlaps == (bucket in buckets), bucket
    if duration:
        assert buckets[0] == bucket_of(start)
        assert buckets[-1] == bucket_of(end - timedelta(microseconds=1))
        assert buckets == list(months_between(buckets[0], buckets[-1]))  # consecutive, no gaps
        assert len(set(buckets)) == len(buckets)
    else:
        assert buckets == []


# --- parsing instants -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-09-01", utc(2024, 9, 1)),
        ("  2024-09-01  ", utc(2024, 9, 1)),
        ("2024-09-01T10:00:00Z", utc(2024, 9, 1, 10)),
        ("2024-09-01T10:00Z", utc(2024, 9, 1, 10)),
        ("2024-09-01 10:00:00Z", utc(2024, 9, 1, 10)),
        ("2024-09-01T12:00:00+02:00", utc(2024, 9, 1, 10)),
        ("2024-09-01T05:30:00-04:30", utc(2024, 9, 1, 10)),
        ("2024-09-01T00:30:00+01:00", utc(2024, 8, 31, 23, 30)),
        ("2024-09-01T10:00:00", utc(2024, 9, 1, 10)),  # naive means UTC
        ("2024-09-01T10:00:00.123456Z", utc(2024, 9, 1, 10, 0, 0, 123456)),
        ("1727347200000", utc(2024, 9, 26, 10, 40)),
        ("0", EPOCH),
        ("-1", utc(1969, 12, 31, 23, 59, 59, 999000)),
    ],
)
def test_parse_instant_accepts(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_parse_instant_naive_uses_the_default_zone() -> None:
    assert parse_instant("2024-09-01T10:00:00", default_tz=offset(2)) == utc(2024, 9, 1, 8)
    assert parse_instant("2024-09-01", default_tz=offset(-5)) == utc(2024, 9, 1, 5)
    # An explicit offset wins over the default zone.
    assert parse_instant("2024-09-01T10:00:00Z", default_tz=offset(2)) == utc(2024, 9, 1, 10)


@pytest.mark.parametrize(
    "text",
    [
        "junk",
        "",
        "   ",
        "yesterday",
        "2024-13-01",
        "2024-02-30",
        "2024-09-01T25:00:00",
        "01/09/2024",
        "1.5e12",
        "2024-9-1",
    ],
)
def test_parse_instant_rejects_junk_clearly(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_instant(text)
    message = str(caught.value)
    assert repr(text.strip()) in message
    assert "is not an ISO 8601 date/time" in message
    assert "epoch milliseconds" in message


@pytest.mark.parametrize(
    "text",
    [
        "99999999999999999",  # epoch milliseconds past any datetime
        "-99999999999999999",
        "9999-12-31T23:30:00-01:00",  # UTC instant in year 10000
        "0001-01-01T00:30:00+01:00",  # UTC instant in year 0
    ],
)
def test_parse_instant_out_of_range_is_a_value_error(text: str) -> None:
    # Callers (CLI flags, loader --until, leg timestamps) catch ValueError to report bad input;
    # anything else escapes as a traceback.
    with pytest.raises(ValueError):
        parse_instant(text)


def test_as_utc_and_truncate() -> None:
    assert as_utc(datetime(2024, 1, 1, 12)) == utc(2024, 1, 1, 12)
    assert as_utc(datetime(2024, 1, 1, 12), offset(3)) == utc(2024, 1, 1, 9)
    assert as_utc(datetime(2024, 1, 1, 12, tzinfo=offset(-1))).tzinfo is UTC
    assert truncate_to_ms(utc(2024, 1, 1, 0, 0, 0, 123999)) == utc(2024, 1, 1, 0, 0, 0, 123000)


# --- epoch milliseconds -----------------------------------------------------------------------


def test_epoch_ms_known_values() -> None:
    assert to_epoch_ms(EPOCH) == 0
    assert to_epoch_ms(utc(2024, 9, 26, 10, 40)) == 1727347200000
    assert to_epoch_ms(datetime(2024, 9, 26, 12, 40, tzinfo=offset(2))) == 1727347200000
    assert to_epoch_ms(utc(1969, 12, 31, 23, 59, 59, 999999)) == -1  # floors, never rounds up
    assert to_epoch_ms(utc(2024, 1, 1, 0, 0, 0, 999)) == to_epoch_ms(utc(2024, 1, 1))
    assert from_epoch_ms(MAX_EPOCH_MS) == utc(9999, 12, 31, 23, 59, 59, 999000)
    assert from_epoch_ms(1727347200000) == utc(2024, 9, 26, 10, 40)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=to_epoch_ms(utc(1, 1, 1)), max_value=MAX_EPOCH_MS))
def test_epoch_ms_round_trips_exactly(ms: int) -> None:
    moment = from_epoch_ms(ms)
    assert moment.tzinfo is UTC
    assert moment.microsecond % 1000 == 0
    assert to_epoch_ms(moment) == ms


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=fixed_offsets))
def test_datetimes_round_trip_to_the_millisecond(moment: datetime) -> None:
    again = from_epoch_ms(to_epoch_ms(moment))
    assert again == truncate_to_ms(moment)
    assert timedelta(0) <= moment - again < timedelta(milliseconds=1)


def test_months_at_the_ends_of_time_do_not_crash() -> None:
    assert month_range("9999-12") == TimeRange(parse_instant("9999-12-01"), None)
    assert step_bucket("0001-01", -1) == "0001-01"
    last = periods(TimeRange(parse_instant("9999-10-01"), parse_instant("9999-12-31")), Granularity.MONTH)
    assert len(last) == 3 and last[-1].end == parse_instant("9999-12-31")


def test_next_month_stops_at_year_9999() -> None:
    assert step_bucket("9999-12", 1) == "9999-12"
    assert step_bucket("2024-12", 1) == "2025-01"


@given(
    st.datetimes(
        datetime(1970, 1, 1),
        datetime(9999, 11, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]),
    )
)
def test_the_bucket_of_a_day_number_is_the_bucket_of_any_instant_of_it(moment: datetime) -> None:
    """What the write path uses (day number from epoch ms, bucket remembered per day) is
    ``bucket_of`` of the instant itself, in any zone, the first and last instants of a day too."""
    day = to_epoch_ms(moment) // DAY_MS
    assert bucket_of_day(day) == bucket_of(moment)
    start = EPOCH + timedelta(days=day)
    assert bucket_of_day(day) == bucket_of(start) == bucket_of(start + timedelta(days=1, microseconds=-1))
