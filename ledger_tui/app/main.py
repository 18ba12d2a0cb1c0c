"""Open the console: typed options in, the app run on an engine from the one builder."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..domain.model import Address
from ..engine import Engine
from ..ledger import LedgerOptions, build_engine
from ..settings import ConsoleState, write_state

if TYPE_CHECKING:
    from .app import LedgerApp

ScreenName = Literal["compose", "browse", "chart", "trial", "holds"]
SCREEN_NAMES: tuple[ScreenName, ...] = ("compose", "browse", "chart", "trial", "holds")


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """How the console starts: which screen, and optionally an (account, bucket) to open."""

    start_screen: ScreenName = "compose"
    initial_account: tuple[Address, str] | None = None
    #: A Textual theme name (None: the default), and entries per page in browse (None: default).
    theme: str | None = None
    page_size: int | None = None
    #: Remember the store, last screen and theme for the next start (not for a demo's temp ledger).
    remember: bool = False


async def _run(engine: Engine, options: ConsoleOptions) -> LedgerApp:
    from .app import LedgerApp

    app = LedgerApp(
        engine,
        start_screen=options.start_screen,
        initial_account=options.initial_account,
        page_size=options.page_size,
    )
    if options.theme is not None:
        app.theme = options.theme
    try:
        await app.run_async()
    finally:
        await engine.close()
    return app


def run_console(ledger: LedgerOptions, options: ConsoleOptions) -> int:
    """Open the console on the ledger ``ledger`` names; returns the process exit code."""
    app = asyncio.run(_run(build_engine(ledger), options))
    if options.remember:
        write_state(ConsoleState(store=ledger.store, screen=app.current_mode, theme=app.theme))
    return 0
