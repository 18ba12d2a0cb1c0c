"""``layout split|show``: spread a hot account's entries over more partitions, and list who is split.

Why a command: an operator knows ahead of the traffic (a new settlement account, a sale) and the
change must be recorded in the ledger so that every writer places rows the same way.
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ..domain.layout import BUCKET_SIZES, MAX_SUBS, layout_record
from ..engine import Engine
from .common import EXIT_OK, whole_number, with_engine


async def _split(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    change = await engine.layouts().split(args.account, args.subs, args.bucket, at_once=args.now)
    out.write(
        f"{change.address}: entries recorded from {change.since.isoformat(timespec='seconds')} on go to "
        f"{change.bucket} buckets of {change.subs} partition(s); earlier entries stay where they are\n"
    )
    return EXIT_OK


async def _show(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    changes = await engine.layouts().history()
    if args.json:
        out.writelines(json.dumps(layout_record(change)) + "\n" for change in changes)
        return EXIT_OK
    if not changes:
        out.write("no account is split: every account keeps one partition a month\n")
        return EXIT_OK
    for change in changes:
        stamp = change.since.isoformat(timespec="seconds")
        out.write(f"{stamp}  {change.bucket:<5}  x{change.subs:<4}  {change.address}\n")
    return EXIT_OK


async def _rows(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    book = engine.layouts()
    if args.rows is not None:
        await book.set_partition_rows(args.rows)
    out.write(
        f"the ledger splits an account once a partition would pass {await book.partition_rows():,} rows\n"
    )
    return EXIT_OK


def add_layout_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``layout`` and its subcommands."""
    layout = commands.add_parser(
        "layout",
        help="spread a hot account over more partitions (split), list split accounts (show)",
        description="An account on a large share of all sets (a settlement or omnibus account) "
        "outgrows one partition a month. `layout split` sends the entries it records from then on "
        "to finer buckets (day, hour) and several partitions each, chosen by transaction id; "
        "reads merge them, in order. Past entries stay where they are. The change takes effect "
        "two minutes later, once every running writer has read it. Sealing splits an account "
        "itself when its busiest day would pass `layout rows` a partition (docs/scale.md).",
    )
    actions = layout.add_subparsers(dest="layout_command", metavar="ACTION", required=True)
    split = actions.add_parser("split", help="partition an account's new entries by bucket and sub")
    split.add_argument("account", metavar="ACCOUNT", help="LE/NS/NAME/CUR/ACCT")
    split.add_argument(
        "--subs", type=whole_number, required=True, metavar="N", help=f"partitions per bucket (1-{MAX_SUBS})"
    )
    split.add_argument("--bucket", choices=BUCKET_SIZES, default="month", help="bucket size (default: month)")
    split.add_argument(
        "--now",
        action="store_true",
        help="take effect at once (only when no other process writes to this ledger)",
    )
    split.set_defaults(handler=with_engine(_split))
    rows = actions.add_parser("rows", help="the rows a partition is sized for when sealing splits an account")
    rows.add_argument(
        "rows", type=whole_number, nargs="?", metavar="N", help="set it (1,000-1,000,000; default 50,000)"
    )
    rows.set_defaults(handler=with_engine(_rows))
    show = actions.add_parser("show", help="every layout change, by account")
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    show.set_defaults(handler=with_engine(_show))
