"""Stepping between the months of an account that hold entries (``[`` and ``]`` in browse).

An operator paging month by month wants the next month with something in it, not a run of
empty months; the account's bucket index already lists exactly those months.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from ...domain.timeutil import TimeRange, bucket_start, month_range


def step_month(months: Sequence[str], reference: str, step: int, *, on_month: bool) -> str | None:
    """The nearest month of ``months`` (sorted ``YYYY-MM``) before (``step`` < 0) or after ``reference``.

    ``on_month``: the screen shows exactly ``reference``, so it is skipped; otherwise (a wider
    range, or none) ``reference`` itself is the first candidate. None when there is no such month.
    """
    if step < 0:
        index = bisect.bisect_left(months, reference) if on_month else bisect.bisect_right(months, reference)
        return months[index - 1] if index > 0 else None
    index = bisect.bisect_right(months, reference) if on_month else bisect.bisect_left(months, reference)
    return months[index] if index < len(months) else None


def span_of(months: Sequence[str]) -> TimeRange:
    """From the first month's start to the last month's end: where an account has entries."""
    if not months:
        return TimeRange()
    return TimeRange(bucket_start(min(months)), month_range(max(months)).end)
