"""Browse takes in sets another process commits: the newest page shows them, an older page counts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import Static

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine

from ...support.console import (
    ALICE,
    BRUNO,
    FAST_LIVE,
    FEES_GBP,
    NOW,
    OPS_EUR,
    OPS_GBP,
    SIZE,
    column,
    commit_elsewhere,
    descriptions,
    make_app,
    panel_text,
    settle,
    show_alice,
    until,
)

ON_THE_4TH = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


def marker(app: LedgerApp) -> str:
    return str(app.screen.query_one("#partition-panel", Static).border_title or "")


async def test_the_newest_page_shows_a_set_committed_elsewhere_with_its_balance(
    shared_ledger: tuple[Engine, Engine],
) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "browse", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        await show_alice(app, pilot)
        assert column(app, "balance")[-1] == "1,104.25"
        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await until(pilot, lambda: "Paid elsewhere" in descriptions(app))
        assert column(app, "balance")[-1] == "1,129.25"
        assert "seen 5 entries" in panel_text(app) and marker(app) == ""

        # A set on other accounts changes nothing shown.
        await commit_elsewhere(elsewhere, 701, OPS_GBP, FEES_GBP, "1.00", "Not Alice's", ON_THE_4TH)
        await pilot.pause(0.5)
        assert "Not Alice's" not in descriptions(app)


async def test_an_older_page_stays_and_counts_new_entries_until_the_newest_page_shows_them(
    shared_ledger: tuple[Engine, Engine],
) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "browse", live=FAST_LIVE, page_size=1)
    async with app.run_test(size=SIZE) as pilot:
        await show_alice(app, pilot)
        await pilot.press("e", "n")
        await settle(pilot)
        assert descriptions(app) == ["Card fee"] and "page 2" in panel_text(app)

        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await until(pilot, lambda: marker(app).startswith("1 new entry"))
        assert descriptions(app) == ["Card fee"] and "page 2" in panel_text(app)  # no jump

        for shown in (["Salary"], ["Account fee"]):  # no longer the newest: the set made a fifth page
            await pilot.press("n")
            await settle(pilot)
            assert descriptions(app) == shown and marker(app).startswith("1 new entry")
        await pilot.press("n")
        await settle(pilot)
        assert descriptions(app) == ["Paid elsewhere"] and marker(app) == ""
        assert column(app, "balance") == ["1,129.25"] and "page 5" in panel_text(app)


async def test_refreshing_clears_the_new_entries_marker(shared_ledger: tuple[Engine, Engine]) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "browse", live=FAST_LIVE, page_size=2)
    async with app.run_test(size=SIZE) as pilot:
        await show_alice(app, pilot)
        for number in (700, 701):
            await commit_elsewhere(elsewhere, number, OPS_GBP, ALICE, "1.00", f"set {number}", ON_THE_4TH)
        await until(pilot, lambda: marker(app).startswith("2 new entries"))
        await pilot.press("e", "r")
        await settle(pilot)
        assert marker(app) == "" and descriptions(app) == ["Alice deposit", "Card fee"]


async def test_an_account_opened_from_the_tree_grows_its_months_for_a_set_in_a_new_month(
    shared_ledger: tuple[Engine, Engine],
) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "browse", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.query_one(AccountTree).post_message(AccountTree.AccountChosen(BRUNO))
        await settle(pilot)
        assert descriptions(app) == ["Bruno deposit", "FX fee"]
        assert "2024-09-01 → 2024-11-01" in panel_text(app)  # September and October

        await commit_elsewhere(elsewhere, 700, OPS_EUR, BRUNO, "9.00", "November top-up", ON_THE_4TH)
        await until(pilot, lambda: "November top-up" in descriptions(app))
        assert "2024-09-01 → 2024-12-01" in panel_text(app)


async def test_a_view_as_of_a_past_time_does_not_change(shared_ledger: tuple[Engine, Engine]) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "browse", live=FAST_LIVE)
    async with app.run_test(size=SIZE) as pilot:
        browse = await show_alice(app, pilot)
        # As of a minute after the sets were recorded: a re-read would show the new one too.
        browse.query_one(EntriesPanel).show_range(TimeRange(), NOW + timedelta(minutes=1))
        await settle(pilot)
        shown = descriptions(app)
        assert len(shown) == 4
        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await pilot.pause(0.5)
        assert descriptions(app) == shown and marker(app) == ""


async def test_a_later_newest_page_shows_new_entries_and_keeps_its_balances_right(
    shared_ledger: tuple[Engine, Engine],
) -> None:
    console, elsewhere = shared_ledger
    app = make_app(console, "browse", live=FAST_LIVE, page_size=3)
    async with app.run_test(size=SIZE) as pilot:
        await show_alice(app, pilot)
        await pilot.press("e", "n")
        await settle(pilot)
        assert descriptions(app) == ["Account fee"] and "page 2" in panel_text(app)

        await commit_elsewhere(elsewhere, 700, OPS_GBP, ALICE, "25.00", "Paid elsewhere", ON_THE_4TH)
        await until(pilot, lambda: descriptions(app) == ["Account fee", "Paid elsewhere"])
        assert column(app, "balance") == ["1,104.25", "1,129.25"] and "page 2" in panel_text(app)

        # Dated before this page: page 1 takes it and passes its last row on to page 2, whose
        # balances carry it (the pages were read again from the first: their starts had moved).
        when = datetime(2024, 8, 20, tzinfo=UTC)
        await commit_elsewhere(elsewhere, 701, OPS_GBP, ALICE, "5.00", "Backdated", when)
        await until(pilot, lambda: descriptions(app) == ["Salary", "Account fee", "Paid elsewhere"])
        assert column(app, "balance") == ["1,184.50", "1,109.25", "1,134.25"]
        assert "page 2" in panel_text(app) and marker(app) == ""
