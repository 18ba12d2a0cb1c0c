"""The console follows the ledger: publishers behind show in the header, a failing feed is a notice
and is tried again, and a set this console wrote is not taken in twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.messages import LedgerChanged
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.engine import Engine
from ledger_tui.engine.changes import ChangeFeed
from ledger_tui.ledger import open_store
from ledger_tui.store.url import parse_store_url

from ..support.console import (
    ALICE,
    FAST_LIVE,
    NOW,
    OPS_GBP,
    SIZE,
    column,
    commit_elsewhere,
    descriptions,
    fixed_id,
    make_app,
    post_sample,
    recorded_notices,
    settle,
    show_alice,
    until,
)

ON_THE_4TH = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


@pytest.mark.both_stores
async def test_a_set_committed_through_another_store_shows_on_either_store(
    engine: Engine, ledger_url: str
) -> None:
    await post_sample(engine)
    other = open_store(parse_store_url(ledger_url))
    await other.connect()
    elsewhere = Engine(other, clock=lambda: NOW)
    app = make_app(engine, "browse", live=FAST_LIVE)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await show_alice(app, pilot)
            await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
            await until(pilot, lambda: "Paid elsewhere" in descriptions(app))
            assert column(app, "balance")[-1] == "1,129.25"
    finally:
        await other.close()


async def test_a_publisher_behind_shows_in_the_header_and_a_stalled_one_is_a_notice(
    shared_ledger: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    console, elsewhere = shared_ledger
    feed = elsewhere.changes()
    await feed.save("kafka-orders", None, "s1-2")  # 6 sets in the ledger: 4 not published
    await feed.save("hooks", None, "s1-6")  # caught up: not shown
    app = make_app(console, "browse", live=FAST_LIVE)
    shown = recorded_notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "publisher kafka-orders 4 behind" in app.sub_title)
        assert "hooks" not in app.sub_title
        # Not moving for longer than stall_after (0.6 s here, 30 s by default): a notice, once.
        await until(pilot, lambda: "stalled" in app.sub_title)
        assert sum("Publisher stalled: kafka-orders is 4 behind" in notice for notice in shown) == 1

        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "1.00", "one more", ON_THE_4TH)
        await until(pilot, lambda: "publisher kafka-orders 5 behind, stalled" in app.sub_title)
        await until(pilot, lambda: "publisher hooks 1 behind" in app.sub_title)  # not published either
        # It moved: the clock starts again, and a publisher stuck there stalls anew.
        await feed.save("kafka-orders", "s1-2", "s1-5")
        await until(pilot, lambda: any("kafka-orders is 2 behind" in notice for notice in shown))
        assert sum("Publisher stalled: kafka-orders" in notice for notice in shown) == 2
        await feed.save("kafka-orders", "s1-5", "s1-7")
        await feed.save("hooks", "s1-6", "s1-7")
        await until(pilot, lambda: "publisher" not in app.sub_title)


async def test_a_failing_feed_is_a_notice_and_is_tried_again(
    shared_ledger: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    console, elsewhere = shared_ledger
    real = ChangeFeed.start
    calls: list[str | None] = []

    async def flaky(self: ChangeFeed, since: str | None) -> Any:
        calls.append(since)
        if len(calls) <= 2:
            raise StoreUnavailable("no answer from the node")
        return await real(self, since)

    monkeypatch.setattr(ChangeFeed, "start", flaky)
    app = make_app(console, "browse", live=FAST_LIVE)
    shown = recorded_notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "live updates paused" in app.sub_title)
        assert any(notice.startswith("Live updates paused (Store unavailable)") for notice in shown)
        await until(pilot, lambda: "live updates paused" not in app.sub_title)
        assert len(calls) == 3 and app.connection == "connected"
        assert sum(notice.startswith("Live updates paused") for notice in shown) == 1  # said once
        assert any(notice.startswith("Live updates resumed") for notice in shown)

        await show_alice(app, pilot)
        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await until(pilot, lambda: "Paid elsewhere" in descriptions(app))


async def test_a_set_this_console_wrote_is_not_taken_in_again(
    shared_ledger: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    console, elsewhere = shared_ledger
    taken: list[int] = []
    real = BrowseScreen.sets_committed

    def counted(self: BrowseScreen, changes: Any) -> None:
        taken.append(len(changes))
        real(self, changes)

    monkeypatch.setattr(BrowseScreen, "sets_committed", counted)
    app = make_app(console, "browse", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        await show_alice(app, pilot)
        # As after a post or a reversal here: the screens refreshed already, the feed need not.
        app.post_message(LedgerChanged(fixed_id(700)))
        await settle(pilot)
        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Written here", ON_THE_4TH)
        await commit_elsewhere(elsewhere, 701, OPS_GBP, ALICE, "1.00", "Written elsewhere", ON_THE_4TH)
        await until(pilot, lambda: taken == [1])
        await pilot.pause(0.3)
        assert taken == [1]
