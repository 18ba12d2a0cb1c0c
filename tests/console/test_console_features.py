"""Issue 13's features and issue 9's console parts, as flows on both stores."""

from __future__ import annotations

import pytest

from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.browse.transaction_detail import TransactionDetail
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine, SealReport

from ..support.console import BRUNO, SIZE, fixed_id, make_app, post_sample, settle


async def test_copy_the_transaction_id_from_the_entries_and_the_detail(engine: Engine) -> None:
    await post_sample(engine)
    app = make_app(engine, "browse")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        browse.set_range(TimeRange())
        browse.show_entries(BRUNO)
        await settle(pilot)
        await pilot.press("e", "down", "y")  # bruno's second entry: the FX fee, set 5
        await settle(pilot)
        assert app.clipboard == str(fixed_id(5))
        await pilot.press("up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TransactionDetail)
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == str(fixed_id(3))
        assert any(str(fixed_id(3)) in n.message for n in app._notifications)


async def test_the_open_console_seals_in_the_background(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_seal = engine.seal

    async def counting_seal(**kwargs: object) -> SealReport:
        calls.append(1)
        return await real_seal()

    monkeypatch.setattr(engine, "seal", counting_seal)
    await post_sample(engine)
    app = make_app(engine, "browse", seal_every=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert len(calls) >= 2  # once on connect, then on the interval
        assert app.screen.query("#entries")  # the screen went on working meanwhile


async def test_a_failed_background_seal_is_a_notice_not_a_crash(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_seal(**kwargs: object) -> SealReport:
        raise StoreUnavailable("the node went away while sealing")

    monkeypatch.setattr(engine, "seal", failing_seal)
    app = make_app(engine, "browse", seal_every=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [str(n.title) for n in app._notifications]
        assert any(title.startswith("Background sealing failed") for title in titles)
        assert app.is_running
