"""Browse's month keys step over months without entries; an account's span is its first to its last month."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger_tui.app.browse.month_steps import span_of, step_month
from ledger_tui.domain.timeutil import TimeRange


def test_month_steps_skip_months_without_entries() -> None:
    months = ["2024-01", "2024-04", "2024-09"]
    assert step_month(months, "2024-04", 1, on_month=True) == "2024-09"
    assert step_month(months, "2024-04", -1, on_month=True) == "2024-01"
    assert step_month(months, "2024-06", -1, on_month=True) == "2024-04"
    assert step_month(months, "2024-04", 1, on_month=False) == "2024-04"
    assert step_month(months, "2024-09", 1, on_month=True) is None
    assert step_month(months, "2024-01", -1, on_month=True) is None
    assert step_month([], "2024-01", 1, on_month=False) is None
    assert span_of(months) == TimeRange(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC))
    assert span_of([]) == TimeRange()
