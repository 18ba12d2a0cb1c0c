"""Time in the ledger: UTC instants, monthly buckets, half-open ranges and the periods of a series.

The origin bucketed in local time and its month loop skipped the last bucket; here every
instant is timezone-aware UTC and a range maps to every month it touches, inclusive.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from .text import shown

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Milliseconds in a UTC day: epoch milliseconds // DAY_MS is the day number.
DAY_MS = 86_400_000
#: Latest instant the ledger accepts (end of year 9999), so buckets stay four-digit years.
MAX_EPOCH_MS = 253_402_300_799_999
#: Latest time an entry may have (end of 9999-11): every bucket then has a following month, so
#: range, bucket and day arithmetic on every read path stays inside what datetime represents.
LATEST_ENTRY_MS = 253_399_622_399_999
#: Longest epoch-milliseconds text parsed as a number (MAX_EPOCH_MS has 15 digits).
_MAX_EPOCH_DIGITS = 18
_TICK = timedelta(microseconds=1)
_EPOCH_DIGITS = re.compile(r"^-?[0-9]+\Z")


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_epoch_ms(ms: int) -> datetime:
    """Aware UTC datetime for epoch milliseconds (exact, no float on the way)."""
    return EPOCH + timedelta(milliseconds=ms)


def truncate_to_ms(moment: datetime) -> datetime:
    """Drop sub-millisecond digits, the precision both stores keep."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def as_utc(moment: datetime, default_tz: tzinfo = UTC) -> datetime:
    """Attach ``default_tz`` to a naive datetime, then convert to UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(UTC)


def parse_instant(text: str, default_tz: tzinfo = UTC) -> datetime:
    """Parse ISO 8601 (date or date-time, offset optional) or epoch milliseconds, into UTC."""
    text = text.strip()
    out_of_range = ValueError(f"{shown(text)} is outside the years 1 to 9999")
    if _EPOCH_DIGITS.match(text) and len(text.lstrip("-")) != 8:  # 8 digits: basic date YYYYMMDD
        if len(text.lstrip("-")) > _MAX_EPOCH_DIGITS:
            raise out_of_range
        try:
            return from_epoch_ms(int(text))
        except OverflowError:
            raise out_of_range from None
    try:
        if len(text) in (8, 10):
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{shown(text)} is not an ISO 8601 date/time (e.g. 2024-09-01 or 2024-09-01T10:00:00Z) "
            "or epoch milliseconds"
        ) from None
    try:
        return as_utc(parsed, default_tz)
    except OverflowError:
        raise out_of_range from None


def bucket_of(moment: datetime) -> str:
    """The UTC calendar month ``YYYY-MM`` an instant falls in (naive times are refused, not guessed)."""
    if moment.tzinfo is None:
        raise ValueError("bucket_of needs a timezone-aware datetime")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


@functools.lru_cache(maxsize=65_536)
def bucket_of_day(day: int) -> str:
    """The bucket of a UTC day number, remembered: a write's entries share few days, and the
    write path needs the bucket of every one of them."""
    return bucket_of(EPOCH + timedelta(days=day))


def bucket_start(bucket: str) -> datetime:
    """First instant of a ``YYYY-MM`` bucket."""
    year, month = bucket.split("-")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


def bucket_after(bucket: str) -> str:
    """The bucket after ``bucket``, even after the last one (9999-12 gives "10000-01").

    Why unclamped: it is the exclusive end of a bucket or of a loop; ``step_bucket`` is the one
    an operator steps with.
    """
    year, month = (int(part) for part in bucket.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


FIRST_BUCKET = "0001-01"
LAST_BUCKET = "9999-12"


def step_bucket(bucket: str, step: int) -> str:
    """The month before (``step`` < 0) or after ``bucket``, staying put at 0001-01 and 9999-12.

    Why clamped: the calendar has no month outside those two, so a key pressed there does nothing.
    """
    if step < 0:
        return bucket if bucket == FIRST_BUCKET else bucket_of(bucket_start(bucket) - timedelta(days=1))
    return bucket if bucket == LAST_BUCKET else bucket_after(bucket)


def month_range(bucket: str) -> TimeRange:
    """The half-open range of one month bucket (December 9999 is open-ended: no year 10000)."""
    last = bucket == LAST_BUCKET
    return TimeRange(bucket_start(bucket), None if last else bucket_start(bucket_after(bucket)))


def range_bucket(time_range: TimeRange) -> str | None:
    """The bucket a range covers exactly, or None when it is not one whole month."""
    if time_range.start is None or time_range.end is None:
        return None
    bucket = bucket_of(time_range.start)
    return bucket if month_range(bucket) == time_range else None


def months_ending(moment: datetime, count: int) -> TimeRange:
    """The ``count`` whole months up to and including the month of ``moment``."""
    last = bucket_of(moment)
    first = last
    for _ in range(count - 1):
        first = step_bucket(first, -1)
    return TimeRange(bucket_start(first), month_range(last).end)


def months_between(first: str, last: str) -> Iterator[str]:
    """Every bucket from ``first`` to ``last``, both included (the origin skipped the last)."""
    current = first
    while current <= last:
        yield current
        current = bucket_after(current)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open UTC interval [start, end); either side may be open-ended (None)."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("range bounds must be timezone-aware")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("range end is before its start")

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` lies inside the range (start included, end excluded)."""
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)

    @property
    def is_empty(self) -> bool:
        """True when no instant can fall inside (start == end)."""
        return self.start is not None and self.end is not None and self.start >= self.end

    def touches_bucket(self, bucket: str) -> bool:
        """Whether any instant of ``bucket`` falls inside the range."""
        if self.is_empty:
            return False
        first = bucket_start(bucket)
        after = bucket_start(bucket_after(bucket))
        return (self.end is None or first < self.end) and (self.start is None or after > self.start)

    def buckets(self) -> list[str]:
        """Every month the (bounded) range touches: 15 Sep..10 Oct reads Sep and Oct."""
        if self.start is None or self.end is None:
            raise ValueError("only a bounded range maps to a finite list of buckets")
        if self.is_empty:
            return []
        return list(months_between(bucket_of(self.start), bucket_of(self.end - _TICK)))


# -- periods of a balance series (day, week, month) over a bounded range --


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
        return bucket_start(bucket_after(bucket_of(moment)))
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
