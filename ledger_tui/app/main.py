"""Open the console: typed options in, the app run on an engine from the one builder."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from ..domain.model import Address
from ..engine import Engine
from ..ledger import LedgerOptions, build_engine

ScreenName = Literal["compose", "browse", "chart", "trial"]


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """How the console starts: which screen, and optionally an (account, bucket) to open."""

    start_screen: ScreenName = "compose"
    initial_account: tuple[Address, str] | None = None


async def _run(engine: Engine, options: ConsoleOptions) -> None:
    from .app import LedgerApp

    app = LedgerApp(engine, start_screen=options.start_screen, initial_account=options.initial_account)
    if engine.named_balances_error is not None:
        app.call_later(
            app.notify, f"named balances not loaded: {engine.named_balances_error}", severity="warning"
        )
    try:
        await app.run_async()
    finally:
        await engine.close()


def run_console(ledger: LedgerOptions, options: ConsoleOptions) -> int:
    """Open the console on the ledger ``ledger`` names; returns the process exit code."""
    asyncio.run(_run(build_engine(ledger), options))
    return 0
