"""Paging state of the entries table: where each page starts and the balance carried into it.

Why tokens and carried balances: going back re-reads a page from its saved token and resumes
the running balance (the domain's ``BalanceRow`` fold) saved with it, so no page stays in memory.
Under a filter, hidden entries still move the running balance (the account's balance after each
row) but not the rows' debit and credit totals (those sum what is shown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ...domain.balance import BalanceRow
from ...domain.entry_filter import MatchedEntry
from ...domain.money import money_sum
from ...domain.paging import PageToken


@dataclass(frozen=True, slots=True)
class PageStart:
    """Resume point of one page and the running balance just before its first row."""

    token: PageToken | None
    opening: Decimal


@dataclass(frozen=True, slots=True)
class PageStats:
    """Rows and movements of one page (summed over the pages seen for the partition panel)."""

    count: int
    debits: Decimal
    credits: Decimal


@dataclass(slots=True)
class EntryPager:
    """A stack of page starts for one account and range; ``index`` is the page on screen."""

    starts: list[PageStart]
    index: int = 0
    seen: dict[int, PageStats] = field(default_factory=dict)

    @classmethod
    def starting_at(cls, opening: Decimal) -> EntryPager:
        """A pager whose first page begins at ``opening`` (the balance before the range)."""
        return cls([PageStart(None, opening)])

    @property
    def current(self) -> PageStart:
        """Where the page on screen starts."""
        return self.starts[self.index]

    @property
    def has_next(self) -> bool:
        """Whether a page follows the one on screen."""
        return self.index + 1 < len(self.starts)

    @property
    def has_previous(self) -> bool:
        """Whether a page precedes the one on screen."""
        return self.index > 0

    def page_loaded(self, matches: list[MatchedEntry], next_token: PageToken | None) -> list[Decimal]:
        """Running balances for ``matches`` (closing after each row); remembers where the next page starts."""
        row = BalanceRow("", opening=self.current.opening)
        balances: list[Decimal] = []
        for match in matches:
            row.carry_totals(match.hidden_debits, match.hidden_credits)
            row.move(match.entry.side, match.entry.amount)
            balances.append(row.closing)
        self.seen[self.index] = PageStats(row.count, row.debits, row.credits)
        del self.starts[self.index + 1 :]
        if next_token is not None:
            self.starts.append(PageStart(next_token, row.closing))
        return balances

    def go_next(self) -> PageStart | None:
        """Move to the next page (None when there is none)."""
        if not self.has_next:
            return None
        self.index += 1
        return self.current

    def go_previous(self) -> PageStart | None:
        """Move to the previous page (None on the first)."""
        if not self.has_previous:
            return None
        self.index -= 1
        return self.current

    def seen_totals(self) -> PageStats:
        """Rows, debits and credits over every page seen so far."""
        stats = list(self.seen.values())
        return PageStats(
            sum(s.count for s in stats),
            money_sum([s.debits for s in stats]),
            money_sum([s.credits for s in stats]),
        )

    @property
    def first_row_number(self) -> int:
        """1-based number of the first row on screen (pages before it are all full)."""
        return 1 + sum(self.seen[i].count for i in range(self.index) if i in self.seen)
