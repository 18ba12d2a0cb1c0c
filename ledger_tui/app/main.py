"""Entry point the CLI calls when no command is given (and ``demo`` calls after loading)."""

from __future__ import annotations

import argparse
import asyncio

from ..cli import make_engine, named_balances_path
from ..domain.balance import load_named_balances
from ..domain.errors import LedgerError
from ..domain.model import Address
from ..engine import Engine


def _load_named_balances(args: argparse.Namespace, engine: Engine) -> str | None:
    """Load named balances for the chart; returns a warning instead of failing the console."""
    path = named_balances_path(args)
    if path is None:
        return None
    try:
        engine.named_balances = load_named_balances(path)
    except LedgerError as error:
        return f"named balances not loaded: {error}"
    return None


async def _run(
    engine: Engine, start_screen: str, warning: str | None, initial_account: tuple[Address, str] | None
) -> None:
    from .app import LedgerApp

    app = LedgerApp(engine, start_screen=start_screen, initial_account=initial_account)
    if warning:
        app.call_later(app.notify, warning, severity="warning")
    try:
        await app.run_async()
    finally:
        await engine.store.close()


def run_console(args: argparse.Namespace) -> int:
    """Open the console on the store ``args`` names; returns the process exit code."""
    engine = make_engine(args)
    warning = _load_named_balances(args, engine)
    start_screen = str(getattr(args, "start_screen", None) or "compose")
    asyncio.run(_run(engine, start_screen, warning, getattr(args, "initial_account", None)))
    return 0
