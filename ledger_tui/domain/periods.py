"""Chart periods (day, week, month) over a half-open UTC range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from .timeutil import TimeRange, bucket_of, bucket_start, next_bucket


class Granularity(StrEnum):
    """How wide each point of a balance series is."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def _floor(moment: datetime, granularity: Granularity) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity is Granularity.DAY:
        return day
    if granularity is Granularity.WEEK:  # ISO weeks start on Monday
        return day - timedelta(days=day.weekday())
    return bucket_start(bucket_of(moment))


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def _step(moment: datetime, granularity: Granularity) -> datetime:
    """Start of the next period; the end of representable time when there is none (year 9999)."""
    try:
        if granularity is Granularity.DAY:
            return moment + timedelta(days=1)
        if granularity is Granularity.WEEK:
            return moment + timedelta(days=7)
        return bucket_start(next_bucket(bucket_of(moment)))
    except (OverflowError, ValueError):
        return _END_OF_TIME


MAX_PERIODS = 5000


def periods(time_range: TimeRange, granularity: Granularity) -> list[TimeRange]:
    """Consecutive periods covering the range; the first and last are clipped to it."""
    if time_range.start is None or time_range.end is None:
        raise ValueError("a chart needs a bounded date range")
    result: list[TimeRange] = []
    if time_range.is_empty:
        return result
    start, end = time_range.start.astimezone(UTC), time_range.end.astimezone(UTC)
    cursor = _floor(start, granularity)
    while cursor < end:
        following = _step(cursor, granularity)
        result.append(TimeRange(max(cursor, start), min(following, end)))
        if len(result) > MAX_PERIODS:
            raise ValueError(f"more than {MAX_PERIODS} periods: choose a coarser granularity")
        cursor = following
    return result
