"""``limit set|show|clear``: bounds on account balances, kept in the ledger with who and when.

Why ``--by`` defaults to the login name: every change is recorded with who made it, and a script
run by a service account should say which service it is.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import TextIO

from ..domain.limits import Limit, LimitChange
from ..engine import Engine
from .common import EXIT_OK, with_engine


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


def _bound(value: object) -> str | None:
    return None if value is None else str(value)


def _as_json(change: LimitChange) -> dict[str, object]:
    return {
        "pattern": str(change.limit.pattern),
        "min": _bound(change.limit.minimum),
        "max": _bound(change.limit.maximum),
        "changed_by": change.changed_by,
        "changed_at": change.changed_at.isoformat(timespec="milliseconds"),
    }


def _line(limit: Limit) -> str:
    low = "-" if limit.minimum is None else str(limit.minimum)
    high = "-" if limit.maximum is None else str(limit.maximum)
    return f"{low:>16}  {high:>16}  {limit.pattern}\n"


async def _set(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    change = await engine.limits().set(args.pattern, args.min, args.max, _who(args))
    out.write(f"limit on {change.limit.pattern}: {change.limit.describe()} (by {change.changed_by})\n")
    return EXIT_OK


async def _clear(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    change = await engine.limits().clear(args.pattern, _who(args))
    out.write(f"limit on {change.limit.pattern} cleared (by {change.changed_by})\n")
    return EXIT_OK


async def _show(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    book = engine.limits()
    if args.history:
        changes = await book.history()
        if args.json:
            out.writelines(json.dumps(_as_json(c)) + "\n" for c in changes)
            return EXIT_OK
        for change in changes:
            what = "cleared" if change.cleared else change.limit.describe()
            stamp = change.changed_at.isoformat(timespec="seconds")
            out.write(f"{stamp}  {change.changed_by:<16}  {change.limit.pattern}  {what}\n")
        return EXIT_OK
    limits = await book.current()
    if args.json:
        out.writelines(
            json.dumps({"pattern": str(lim.pattern), "min": _bound(lim.minimum), "max": _bound(lim.maximum)})
            + "\n"
            for lim in limits
        )
        return EXIT_OK
    if not limits:
        out.write("no limits: every account may take any balance\n")
        return EXIT_OK
    out.write(f"{'min':>16}  {'max':>16}  pattern (the most specific one covers an account)\n")
    out.writelines(_line(limit) for limit in limits)
    return EXIT_OK


def add_limit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``limit`` and its subcommands."""
    limit = commands.add_parser(
        "limit",
        help="bounds on account balances: set, show, clear (every writer enforces them)",
        description="A limit bounds the balance (credits - debits) of every account a pattern "
        "selects, e.g. fintech_uk/com.fintech.customer/current/GBP/* --min 0 (no overdraft). "
        "A set whose legs would take a bounded account below its min or above its max is refused "
        "whole. The most specific pattern covering an account is the one in force. Limits live in "
        "the ledger; every change is kept with who made it and when (limit show --history).",
    )
    actions = limit.add_subparsers(dest="limit_command", metavar="ACTION", required=True)
    setting = actions.add_parser("set", help="bound the accounts a pattern selects (replaces its limit)")
    setting.add_argument("pattern", metavar="PATTERN", help="LE/NS/NAME/CUR/ACCT, any part but CUR may be *")
    setting.add_argument("--min", metavar="AMOUNT", help="lowest balance allowed (0: no overdraft)")
    setting.add_argument("--max", metavar="AMOUNT", help="highest balance allowed")
    setting.add_argument("--by", metavar="WHO", help="who makes the change (default: the login name)")
    setting.set_defaults(handler=with_engine(_set))
    clearing = actions.add_parser("clear", help="remove a pattern's limit (the change is kept)")
    clearing.add_argument("pattern", metavar="PATTERN")
    clearing.add_argument("--by", metavar="WHO", help="who makes the change (default: the login name)")
    clearing.set_defaults(handler=with_engine(_clear))
    showing = actions.add_parser("show", help="the limits in force (or every change, --history)")
    showing.add_argument("--history", action="store_true", help="every change, oldest first")
    showing.add_argument("--json", action="store_true", help="one JSON object per line")
    showing.set_defaults(handler=with_engine(_show))
