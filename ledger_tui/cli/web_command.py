"""``web``: the console served to a browser (textual-serve), one console process per tab.

Why here: the command picks the ledger exactly as the console does and hands each tab's process
that choice through the environment the console already reads (LEDGER_STORE, LEDGER_BALANCES,
LEDGER_CASSANDRA_*), so a password never shows on a command line; the server itself (ledger_tui.web)
never opens the ledger. Beyond loopback, only the ledger's admin API keys open it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from ..domain.keys import ADMIN
from ..ledger import LedgerOptions, named_balances_path, open_ledger, store_credentials
from ..settings import read_state
from ..store.credentials import ENV_PASSWORD, ENV_USERNAME
from ..store.url import default_sqlite_path, parse_store_url
from .common import EXIT_OK, EXIT_USAGE, UsageError, config_settings, ledger_options, whole_number

if TYPE_CHECKING:
    from ..web import KeyCheck

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
#: The hidden flag that makes ``web`` run one tab's console instead of the server.
CONSOLE_FLAG = "--console-process"


def add_web_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``web`` and its flags."""
    web = commands.add_parser(
        "web",
        help="serve the console to a browser (each tab runs its own console)",
        description="Serve the console to a web browser with textual-serve: every tab that opens the "
        "address runs its own console process on the same ledger (the store flags pick it, as for "
        "the console). It listens on this machine only (127.0.0.1) unless --host says otherwise, and "
        "then only behind the ledger's admin API keys (`ledger-tui keys create --scope admin`): a "
        "browser gives one on a login page or as Authorization: Bearer. SIGINT or SIGTERM stops it "
        "and every console it started.",
    )
    web.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; any other needs admin keys)",
    )
    web.add_argument("--port", type=whole_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    web.add_argument(CONSOLE_FLAG, action="store_true", help=argparse.SUPPRESS)
    web.set_defaults(handler=web_handler)


async def _behind_keys(options: LedgerOptions, serve: Callable[[KeyCheck], Awaitable[None]]) -> None:
    """Serve beyond loopback behind the ledger's admin keys (a tab's console can post and reverse
    whatever its key let in, so nothing less than admin opens it)."""
    async with open_ledger(options) as engine:
        cache = engine.keys().cache()
        if not any(record.active and record.grants(ADMIN) for record in await engine.keys().all()):
            raise UsageError(
                "serving the console beyond this machine needs an active admin API key: create one "
                "with `ledger-tui keys create --name NAME --scope admin` (or use a loopback address)"
            )

        async def check(key: str) -> bool:
            record = await cache.authenticate(key)
            return record is not None and record.grants(ADMIN)

        await serve(check)


def web_handler(args: argparse.Namespace, out: TextIO) -> int:
    """Serve the console until SIGINT/SIGTERM (or, with the hidden flag, be one tab's console)."""
    if args.console_process:
        return _tab_console(args)
    if not 0 < args.port < 65536:
        raise UsageError("--port must be between 1 and 65535")
    from ..web import CannotListen, ConsoleCommand, is_loopback, key_guard, loopback_guard, serve_console

    store, environment = _tab_environment(args)
    command = ConsoleCommand(_tab_argv(args), environment)

    def ready(url: str) -> None:
        out.write(f"the console: {url}  (ledger {store}; each browser tab runs its own; ctrl+c stops)\n")
        out.flush()

    def behind(check: KeyCheck) -> Awaitable[None]:
        return serve_console(command, args.host, args.port, middlewares=[key_guard(check)], on_ready=ready)

    try:
        if is_loopback(args.host):
            asyncio.run(
                serve_console(command, args.host, args.port, middlewares=[loopback_guard()], on_ready=ready)
            )
        else:
            print(
                "ledger-tui: serving beyond this machine behind the ledger's admin keys, in plain HTTP: "
                "keys cross the network in clear (put a TLS proxy in front)",
                file=sys.stderr,
            )
            asyncio.run(_behind_keys(_tab_options(args), behind))
    except CannotListen as error:
        print(f"ledger-tui: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _tab_options(args: argparse.Namespace) -> LedgerOptions:
    """The ledger the console would open: flags, then $LEDGER_STORE, the last store, the config."""
    options = ledger_options(args)
    if args.store is None and not os.environ.get("LEDGER_STORE"):
        state = read_state()
        if state.store:
            options = replace(options, store=state.store)
    return options


def _tab_environment(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The chosen store's URL (no secrets: they never go in one) and what a tab's console is told
    through its environment. A bad URL, balances path or credentials stop the command here."""
    options = _tab_options(args)
    store = options.store or os.environ.get("LEDGER_STORE") or f"sqlite:{default_sqlite_path()}"
    url = parse_store_url(store)
    environment = {"LEDGER_STORE": store}
    balances = named_balances_path(options)
    if balances is not None:
        environment["LEDGER_BALANCES"] = str(balances.expanduser().absolute())
    credentials = store_credentials(options, url)
    if credentials is not None:
        environment |= {ENV_USERNAME: credentials.username, ENV_PASSWORD: credentials.password}
    return store, environment


def _tab_argv(args: argparse.Namespace) -> list[str]:
    """This interpreter running this package's console (theme and page size as given here)."""
    argv = [sys.executable, "-m", "ledger_tui"]
    if args.theme:
        argv += ["--theme", args.theme]
    if args.page_size:
        argv += ["--page-size", str(args.page_size)]
    return [*argv, "web", CONSOLE_FLAG]


def _tab_console(args: argparse.Namespace) -> int:
    """One tab's console: on the browse screen, remembering nothing (a tab is not the user's terminal)."""
    from ..app.main import ConsoleOptions, run_console

    settings = config_settings()
    return run_console(
        ledger_options(args),
        ConsoleOptions(
            start_screen="browse",
            theme=args.theme or settings.theme,
            page_size=args.page_size or settings.page_size,
        ),
    )
