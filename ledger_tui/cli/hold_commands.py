"""``post --pending``, ``capture``, ``void``, ``sweep`` and ``holds``: money held before it moves.

Why the hold's JSON carries its state as of now: an expired hold reads as expired whether or not
``sweep`` has recorded it yet, so a script never acts on a hold that no longer counts.
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime
from typing import TextIO

from ..domain.address import parse_pattern
from ..domain.errors import ValidationError
from ..domain.holds import Hold, parse_duration, time_left
from ..domain.parse import parse_entry_set_json
from ..engine import Engine
from .common import EXIT_OK, instant_flag, read_document, with_engine, write_json


def _id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError.single("TXID", "is not a transaction id (a UUID)") from None


def _shown(hold: Hold, repeated: bool | None = None) -> dict[str, object]:
    data = hold.to_json(datetime.now(UTC))  # the command line's clock is the system's
    if repeated is not None:
        data["repeated"] = repeated
    return data


async def place_hold(args: argparse.Namespace, engine: Engine, document: bytes, out: TextIO) -> int:
    """``post --pending``: hold the set; print the hold."""
    expires_in = None if args.expires_in is None else parse_duration(args.expires_in, "--expires-in")
    expires_at = instant_flag("--expires-at", args.expires_at)
    entry_set = parse_entry_set_json(document, engine.currencies)
    receipt = await engine.holds().place(entry_set, expires_in, expires_at)
    write_json(out, _shown(receipt.hold, receipt.repeated))
    return EXIT_OK


async def _capture(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    partial = None if args.file is None else parse_entry_set_json(read_document(args.file), engine.currencies)
    receipt = await engine.holds().capture(_id(args.txid), partial)
    write_json(out, _shown(receipt.hold, receipt.repeated))
    return EXIT_OK


async def _void(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    receipt = await engine.holds().void(_id(args.txid))
    write_json(out, _shown(receipt.hold, receipt.repeated))
    return EXIT_OK


async def _sweep(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    swept = await engine.holds().sweep()
    out.write(f"sweep: {swept} expired hold(s) recorded\n")
    return EXIT_OK


async def _holds(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    book = engine.holds()
    pattern = None if args.address is None else parse_pattern(args.address, "--address", any_level=True)
    if args.all:
        found = await book.all_holds(pattern)
    else:
        found = await book.pending_holds(pattern)
    if args.json:
        out.writelines(json.dumps(_shown(hold)) + "\n" for hold in found)
        return EXIT_OK
    if not found:
        out.write("no holds pending\n" if not args.all else "no holds\n")
        return EXIT_OK
    now = datetime.now(UTC)
    out.write(f"{'transaction_id':<36}  {'state':<8}  {'expires in':>10}  held\n")
    for hold in found:
        state = hold.state_at(now)
        expires = time_left(hold, now) if state is not None and state.value == "pending" else "-"
        debits = [f"{leg.address} {leg.amount}" for leg in hold.transaction.legs if leg.side.value == "debit"]
        out.write(
            f"{hold.hold_id!s:<36}  {state.value if state else '-':<8}  {expires:>10}  {', '.join(debits)}\n"
        )
    return EXIT_OK


def add_hold_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``capture``, ``void``, ``sweep`` and ``holds`` (``post --pending`` is a flag of ``post``)."""
    capture = commands.add_parser(
        "capture",
        help="post a hold's legs (or, with FILE, at most them: the rest is released)",
        description="Capture a hold once: its set is recorded under the hold's id. With FILE, a "
        "balanced entry set over the hold's accounts whose every amount is at most the held one "
        "(a partial capture). A second capture answers the first; after a void or expiry it is refused.",
    )
    capture.add_argument("txid", metavar="TXID", help="the hold's transaction id")
    capture.add_argument("file", nargs="?", help="a partial capture (JSON file, or - for standard input)")
    capture.set_defaults(handler=with_engine(_capture))
    void = commands.add_parser("void", help="release a hold (once; refused after a capture or expiry)")
    void.add_argument("txid", metavar="TXID", help="the hold's transaction id")
    void.set_defaults(handler=with_engine(_void))
    sweep = commands.add_parser(
        "sweep", help="record every hold past its expiry as expired (reads never wait for it)"
    )
    sweep.set_defaults(handler=with_engine(_sweep))
    holds = commands.add_parser("holds", help="holds pending now, oldest first (--all: every hold)")
    holds.add_argument("--address", help="only holds with a leg on accounts this pattern selects")
    holds.add_argument("--all", action="store_true", help="every hold ever placed, with its outcome")
    holds.add_argument("--json", action="store_true", help="one JSON object per line")
    holds.set_defaults(handler=with_engine(_holds))
