"""What the console remembers while it follows the ledger: repeats and own sets dropped, retry
delays, publishers that stall; and how browse decides between re-reading and counting."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ledger_tui.app.browse.entry_pager import EntryPager
from ledger_tui.app.browse.new_entries import LiveEntries, Step, next_step
from ledger_tui.app.live import LiveFeed, LiveOptions, PublisherWatch
from ledger_tui.domain.changes import Change
from ledger_tui.domain.model import Leg, RecordedTransaction, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine.changes import PublisherLag

from ..support.console import ALICE, NOW, OPS_GBP, fixed_id


def change(number: int, when: datetime = NOW) -> Change:
    legs = [Leg(OPS_GBP, Side.DEBIT, Decimal(1), "x", when), Leg(ALICE, Side.CREDIT, Decimal(1), "x", when)]
    recorded = RecordedTransaction.of(build_entry_set(fixed_id(number), legs), NOW)
    return Change(recorded, f"s1-{number}")


def test_the_feed_drops_repeats_and_sets_this_console_wrote() -> None:
    live = LiveFeed(LiveOptions())
    live.posted(fixed_id(2))
    assert [c.cursor for c in live.take([change(1), change(2), change(3)])] == ["s1-1", "s1-3"]
    assert live.take([change(3), change(4)]) == [change(4)]


def test_a_failing_follower_waits_longer_each_time_up_to_a_bound() -> None:
    live = LiveFeed(LiveOptions(retry_first=1.0, retry_most=5.0))
    assert not live.paused
    assert [live.failed() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert live.paused and live.recovered() and not live.paused and not live.recovered()
    assert live.failed() == 1.0


def test_a_publisher_stalls_when_behind_at_one_cursor_for_too_long() -> None:
    watch = PublisherWatch(stall_after=30.0)
    behind = {"kafka": PublisherLag("s1-2", 4, None)}
    assert watch.update(behind, 0.0) == [] and watch.status() == ["publisher kafka 4 behind"]
    assert watch.update(behind, 29.0) == []
    [notice] = watch.update(behind, 31.0)
    assert notice.startswith("kafka is 4 behind and has not moved for 30 s")
    assert watch.update(behind, 60.0) == []  # said once
    assert watch.status() == ["publisher kafka 4 behind, stalled"]
    assert watch.update({"kafka": PublisherLag("s1-3", 3, None)}, 61.0) == []  # it moved
    assert watch.status() == ["publisher kafka 3 behind"]
    watch.update({"kafka": PublisherLag("s1-6", 0, None)}, 62.0)  # caught up, then idle:
    assert watch.status() == []
    assert watch.update({"kafka": PublisherLag("s1-6", 1, None)}, 200.0) == []  # fell behind just now
    time_based = {"relay": PublisherLag("c1-1", None, 42.4)}
    watch.update(time_based, 201.0)
    assert watch.status() == ["publisher relay 42 s behind"]


def pager(index: int, pages: int) -> EntryPager:
    made = EntryPager.starting_at(Decimal(0))
    made.starts += [made.starts[0]] * (pages - 1)
    made.index = index
    return made


def test_browse_rereads_the_only_or_newest_page_and_counts_on_an_older_one() -> None:
    arrived = [change(1).transaction.entries()[1]]
    assert next_step(None, arrived) is Step.FIRST
    assert next_step(pager(0, 1), arrived) is Step.FIRST
    assert next_step(pager(0, 2), arrived) is Step.COUNT
    assert next_step(pager(1, 2), arrived) is Step.PAGE
    assert next_step(pager(1, 2), []) is Step.NONE


def test_the_marker_counts_new_entries_until_a_page_shows_them() -> None:
    live = LiveEntries()
    shown = (ALICE, TimeRange(), None)
    assert not live.take_in([change(1), change(2)], shown, pager(0, 2))  # an older page: no re-read
    assert live.title.startswith("2 new entries · n to the newest page")
    first, second = (change(n).transaction.entries()[1] for n in (1, 2))
    assert not live.page_read([first], True, TimeRange(), fresh=False)
    assert live.title.startswith("1 new entry")
    # The newest page, read from an old chain, lacks the other: read from the first page again.
    assert live.page_read([first], False, TimeRange(), fresh=False)
    assert not live.page_read([first, second], False, TimeRange(), fresh=True) and live.title == ""
    assert not live.take_in([change(3)], (ALICE, TimeRange(), NOW), pager(0, 2))  # as of a past time
    assert live.title == ""
    assert live.take_in([change(4, datetime(2024, 1, 1, tzinfo=UTC))], shown, pager(1, 2))
    assert live.take_wanted() is Step.PAGE and live.take_wanted() is None
