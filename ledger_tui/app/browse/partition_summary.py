"""The text of the partition panel above the entries: which account, range, filter and page.

Kept apart from the panel widget because it is plain text from plain state: every figure the
operator reads about the page (opening, the sign rule, totals, the excluded end) is worded here.
"""

from __future__ import annotations

from datetime import datetime

from rich.markup import escape

from ...domain.entry_filter import EntryFilter
from ...domain.model import Address
from ...domain.money import Currencies
from ...domain.timeutil import TimeRange, range_bucket
from ..widgets.formatting import date_text, instant_text, money_text, plural
from .entry_pager import EntryPager

SIGN_RULE = "balance = opening + credits − debits"


def describe_range(time_range: TimeRange) -> str:
    """``range 2024-09-01 → 2024-10-15 (end excluded)``, ``bucket 2024-09`` or ``range all dates``."""
    start, end = time_range.start, time_range.end
    if start is None and end is None:
        return "range all dates"
    bucket = range_bucket(time_range)
    if bucket is not None:
        return f"bucket {bucket}"
    if end is None:
        return f"range from {date_text(start)}"
    return f"range {date_text(start) or '…'} → {date_text(end)} (end excluded)"


def as_of_text(as_of: datetime) -> str:
    """The as-of label: the recorded time the ledger is read at."""
    return f"as of {instant_text(as_of)} UTC (entries recorded by then)"


def summary_lines(
    address: Address,
    time_range: TimeRange,
    as_of: datetime | None,
    where: EntryFilter,
    pager: EntryPager | None,
    currencies: Currencies,
) -> list[str]:
    """The panel's lines (markup): partition, range and opening, page and totals, filter."""
    currency = address.currency
    lines = ["partition [b]" + escape(" / ".join(address.as_tuple())) + "[/b]"]
    scope = describe_range(time_range)
    if as_of is not None:
        scope += f" · [b]{as_of_text(as_of)}[/b]"
    lines.append(scope)
    if pager is not None:
        lines.append(f"opening {money_text(pager.starts[0].opening, currency, currencies)} · {SIGN_RULE}")
        seen = pager.seen_totals()
        on_page = pager.seen.get(pager.index)
        count = on_page.count if on_page else 0
        first = pager.first_row_number
        empty = "no entries match" if where.is_active else "no entries in this range"
        rows = f"rows {first}–{first + count - 1}" if count else empty
        more = " · more: n" if pager.has_next else ""
        back = " · back: p" if pager.has_previous else ""
        shown = "shown" if where.is_active else "seen"
        lines.append(
            f"page {pager.index + 1} · {rows}{more}{back} · {shown} "
            f"{plural(seen.count, 'entry', 'entries')}: "
            f"debits {money_text(seen.debits, currency, currencies)} · "
            f"credits {money_text(seen.credits, currency, currencies)}"
        )
    if where.is_active:
        lines.append(
            f"[reverse] filter [/reverse] {escape(where.describe())} · Balance still counts hidden entries"
            " · escape clears"
        )
    return lines
