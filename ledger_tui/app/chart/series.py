"""The chart's series as the screen uses it: which currencies it holds, one currency's points,
and the export table (every currency, amounts as exact Decimal text).

Kept free of widgets so the export and the currency choice can be tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...domain.balance import PeriodBalance
from ...domain.export import ExportTable
from ...domain.money import Currencies
from ...domain.timeutil import Granularity
from ..widgets.formatting import date_text

#: The currency selector's value that draws every currency on one axis.
ALL_CURRENCIES = "*"
EXPORT_COLUMNS = ("period_start", "period_end", "currency", "debits", "credits", "closing_balance")


def currencies_of(series: Sequence[PeriodBalance]) -> list[str]:
    """The currencies present in ``series``, sorted."""
    return sorted({point.currency for point in series})


def shown_points(series: Sequence[PeriodBalance], currency: str) -> list[PeriodBalance]:
    """The points of one currency (or all of them for ``ALL_CURRENCIES``)."""
    if currency == ALL_CURRENCIES:
        return list(series)
    return [point for point in series if point.currency == currency]


def series_table(series: Sequence[PeriodBalance], currencies: Currencies) -> ExportTable:
    """Every point of every currency, dates as UTC days, amounts in the currency's precision."""
    rows = [
        (
            date_text(point.period.start),
            date_text(point.period.end),
            point.currency,
            currencies.format(point.debits, point.currency),
            currencies.format(point.credits, point.currency),
            currencies.format(point.closing, point.currency),
        )
        for point in series
    ]
    return ExportTable.of(EXPORT_COLUMNS, rows)


def series_kind(label: str, granularity: Granularity) -> str:
    """A file-name stem for an export of the series of ``label``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label).strip("-")
    return f"chart-{safe[:60]}-{granularity.value}"
