"""The argument parser: every command names its handler with ``set_defaults(handler=...)``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..domain.document import MAX_DOCUMENT_TEXT
from ..loader import DEFAULT_CONCURRENCY, DEFAULT_MONTHS, DEFAULT_SEED, DEFAULT_SETS, DEMO_SETS
from ..settings import PAGE_SIZES, config_path, known_themes, state_path
from ..store.credentials import default_credentials_path
from ..store.url import (
    CASSANDRA_OPTIONS,
    CONSISTENCY_LEVELS,
    SERIAL_LEVELS,
    SQLITE_OPTIONS,
    default_sqlite_path,
)
from . import ledger_commands, load_commands
from .changes_command import add_changes_commands
from .common import EXIT_CODES, seconds, whole_number
from .dump_commands import add_dump_commands
from .hold_commands import add_hold_commands
from .import_commands import add_import_commands
from .ingest_command import add_ingest_command
from .journal_commands import add_journal_commands
from .keys_commands import add_keys_commands
from .layout_commands import add_layout_commands
from .limit_commands import add_limit_commands
from .restore_commands import add_restore_commands
from .serve_command import add_serve_command
from .web_command import add_web_command


def epilog() -> str:
    """Where things live, every store URL option and every exit code, generated from the code that
    defines them (store/url.py, cli/common.py, settings.py), so the help cannot drift from it."""
    sqlite, cassandra = ", ".join(SQLITE_OPTIONS), ", ".join(CASSANDRA_OPTIONS)
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES)
    return (
        f"default store:\n  sqlite:{default_sqlite_path()}\n"
        "store URLs:\n  sqlite:PATH[?OPTION=VALUE&...]\n"
        "  cassandra://HOST[,HOST...][:PORT]/KEYSPACE[?OPTION=VALUE&...]\n"
        f"  sqlite options: {sqlite}\n"
        f"  cassandra options: {cassandra}\n"
        f"  consistency: {', '.join(CONSISTENCY_LEVELS)}\n"
        f"  serial_consistency: {', '.join(SERIAL_LEVELS)}\n"
        "credentials never go in the URL or the config file: LEDGER_CASSANDRA_USERNAME and\n"
        f"  LEDGER_CASSANDRA_PASSWORD, --credentials FILE (TOML [cassandra] username/password, mode 0600;\n"
        f"  default {default_credentials_path()}) or --ask-password\n"
        f"config file (store, balances, theme, page_size; flags and LEDGER_* win):\n  {config_path()}\n"
        f"remembered console state (last store, screen, theme):\n  {state_path()}\n"
        "environment: LEDGER_STORE, LEDGER_BALANCES, LEDGER_CREDENTIALS, LEDGER_CONFIG\n"
        f"exit codes:\n{codes}"
    )


def theme_name(text: str) -> str:
    """An argparse ``type`` for --theme: one of the console's themes."""
    if text not in known_themes():
        raise argparse.ArgumentTypeError(f"unknown theme {text!r} (known: {', '.join(known_themes())})")
    return text


def page_size(text: str) -> int:
    """An argparse ``type`` for --page-size."""
    number = whole_number(text)
    if number not in PAGE_SIZES:
        raise argparse.ArgumentTypeError(f"must be {PAGE_SIZES.start} to {PAGE_SIZES.stop - 1}")
    return number


def _range_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", help="range start, inclusive (ISO 8601 or epoch ms; UTC default)")
    parser.add_argument("--end", help="range end, exclusive")


def _loader_flags(parser: argparse.ArgumentParser, default_sets: int) -> None:
    parser.add_argument("--transactions", type=whole_number, default=default_sets, help="generated sets")
    parser.add_argument("--months", type=whole_number, default=DEFAULT_MONTHS, help="months of history")
    parser.add_argument("--until", help="end of history (default: today, UTC)")
    parser.add_argument("--seed", type=whole_number, default=DEFAULT_SEED, help="same seed, same ledger")
    parser.add_argument(
        "--concurrency", type=whole_number, default=DEFAULT_CONCURRENCY, help="chunks in flight"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``ledger-tui`` argument parser (also used by tests to check usage errors)."""
    parser = argparse.ArgumentParser(
        prog="ledger-tui",
        description="Terminal console and tools for an append-only double-entry ledger.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ledger-tui {__version__}")
    parser.add_argument("--store", help="store URL (default: $LEDGER_STORE or the user's ledger file)")
    parser.add_argument(
        "--credentials", type=Path, help="Cassandra credentials file (TOML, readable by its owner only)"
    )
    parser.add_argument(
        "--ask-password", action="store_true", help="prompt for the Cassandra username and password"
    )
    parser.add_argument(
        "--balances",
        type=Path,
        help="named balances: TOML, or the origin's balance_definitions.yml "
        "(default: $LEDGER_BALANCES or the bundled sample)",
    )
    parser.add_argument("--theme", type=theme_name, help="console theme (default: the last one used)")
    parser.add_argument("--page-size", type=page_size, help="entries per page in browse (default 100)")
    parser.set_defaults(handler=load_commands.console)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    schema = commands.add_parser("schema", help="manage the schema")
    schema.add_argument("action", choices=["apply"])
    schema.set_defaults(handler=ledger_commands.schema)

    post = commands.add_parser(
        "post",
        help="post an entry set (the origin's transaction.json format)",
        description=f"Post one entry set. The document is UTF-8 JSON of at most {MAX_DOCUMENT_TEXT}; "
        "every field is checked before anything is written.",
    )
    post.add_argument("file", help=f"JSON file (UTF-8, at most {MAX_DOCUMENT_TEXT}), or - for standard input")
    post.add_argument(
        "--pending", action="store_true", help="hold the set (capture, void or expiry decide it later)"
    )
    expiry = post.add_mutually_exclusive_group()
    expiry.add_argument(
        "--expires-in", metavar="DURATION", help="how long the hold lasts: 90s, 15m, 12h, 7d (default 7d)"
    )
    expiry.add_argument("--expires-at", metavar="INSTANT", help="when the hold lapses (ISO 8601)")
    post.set_defaults(handler=ledger_commands.post)

    balance = commands.add_parser("balance", help="balance of an address or a named balance")
    target = balance.add_mutually_exclusive_group(required=True)
    target.add_argument("--address", help="LE/NS/NAME/CUR/ACCT (ACCT may be *)")
    target.add_argument("--name", help="a named balance from the balances file")
    _range_flags(balance)
    balance.add_argument(
        "--as-of", help="what the ledger showed at this recorded time (ISO 8601 or epoch ms)"
    )
    balance.add_argument("--json", action="store_true", help="print JSON")
    balance.set_defaults(handler=ledger_commands.balance)

    entries = commands.add_parser("entries", help="entries of one account")
    entries.add_argument("--address", required=True, help="LE/NS/NAME/CUR/ACCT")
    _range_flags(entries)
    entries.add_argument("--as-of", help="only entries recorded by then (ISO 8601 or epoch ms)")
    entries.add_argument("--format", choices=["table", "csv", "json"], default="table")
    entries.set_defaults(handler=ledger_commands.entries)

    accounts = commands.add_parser("accounts", help="list every account")
    accounts.add_argument("--json", action="store_true")
    accounts.set_defaults(handler=ledger_commands.accounts)

    verify = commands.add_parser("verify", help="check the whole ledger balances (runs repair first)")
    verify.add_argument(
        "--no-repair", action="store_true", help="report interrupted writes instead of completing them"
    )
    verify.set_defaults(handler=ledger_commands.verify)

    seal = commands.add_parser("seal", help="write balance blocks for every settled day (idempotent)")
    seal.add_argument("--rebuild", action="store_true", help="recompute every block from its entries")
    seal.add_argument(
        "--margin",
        type=seconds,
        help="seconds to wait out writes in flight (default 60; 0 only if nothing else writes)",
    )
    seal.set_defaults(handler=load_commands.seal)

    for name, help_text, handler in (
        ("reverse", "post the reversal of a transaction", ledger_commands.reverse),
        ("show", "show one transaction with all its legs", ledger_commands.show),
    ):
        by_id = commands.add_parser(name, help=help_text)
        by_id.add_argument("transaction_id")
        by_id.set_defaults(handler=handler)

    load_sample = commands.add_parser(
        "load-sample", help="load the origin's sample plus generated entry sets"
    )
    _loader_flags(load_sample, DEFAULT_SETS)
    load_sample.set_defaults(handler=load_commands.load_sample)

    add_import_commands(commands)
    add_ingest_command(commands)
    add_changes_commands(commands)
    add_dump_commands(commands)
    add_journal_commands(commands)
    add_restore_commands(commands)

    demo = commands.add_parser("demo", help="open the console on a fresh demo ledger with sample data")
    _loader_flags(demo, DEMO_SETS)
    demo.add_argument("--no-console", action="store_true", help="print a summary instead")
    demo.set_defaults(handler=load_commands.demo)
    add_serve_command(commands)
    add_keys_commands(commands)
    add_limit_commands(commands)
    add_layout_commands(commands)
    add_hold_commands(commands)
    add_web_command(commands)
    return parser
