"""Browse's pager: the running balance carried across pages equals one fold of every entry."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.app.browse.entry_pager import EntryPager
from ledger_tui.domain.balance import BalanceFold
from ledger_tui.domain.entry_filter import MatchedEntry
from ledger_tui.domain.model import Side

from ...support.movements import entry, movements


@settings(max_examples=100, deadline=None)
@given(moves=movements, page=st.integers(1, 7), opening=st.integers(-(10**6), 10**6))
def test_running_balance_across_pages_equals_the_fold(
    moves: list[tuple[str, Side, int, int]], page: int, opening: int
) -> None:
    entries = [entry("GBP", side, units, hours, i) for i, (_, side, units, hours) in enumerate(moves)]
    pager = EntryPager.starting_at(Decimal(opening))
    running: list[Decimal] = []
    for offset in range(0, len(entries), page):
        chunk = entries[offset : offset + page]
        more = offset + page < len(entries)
        running.extend(pager.page_loaded([MatchedEntry(e) for e in chunk], object() if more else None))  # type: ignore[arg-type]
        if more:
            pager.go_next()
    for count, balance in enumerate(running, start=1):
        fold = BalanceFold(None, None)
        fold.add_all(entries[:count])
        assert balance == Decimal(opening) + fold.result()[0].closing
