"""Snapshots of the shell's own states: the key reference, and a store that never answers."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from ledger_tui.app.app import LedgerApp
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.engine import Engine
from ledger_tui.store.sqlite import SqliteStore

from ..support.console import NOW, SIZE, SnapCompare, make_app, settle


class UnreachableStore(SqliteStore):
    """A store whose node never answers: connect raises StoreUnavailable like a down Cassandra."""

    async def connect(self) -> None:
        raise StoreUnavailable("no answer from 127.0.0.1:9042 (connection refused)")


def test_help_screen(snap_compare: SnapCompare, ledger: Engine) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(ledger, "browse"), terminal_size=SIZE, run_before=run_before)


def test_store_unavailable_notice(snap_compare: SnapCompare, tmp_path: Path) -> None:
    engine = Engine(UnreachableStore(tmp_path / "never.sqlite"), clock=lambda: NOW)
    app: LedgerApp = make_app(engine, "browse")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
    assert app.connection == "unavailable"
