"""``keys create|list|revoke``: the API keys ``serve`` accepts, kept (as hashes) in the ledger.

Why ``create`` prints the key alone on standard output: ``KEY=$(ledger-tui keys create ...)``
works in a script, and the note that it is shown only once goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from ..domain.keys import SCOPES, KeyRecord, check_scopes
from ..engine import Engine
from .common import EXIT_OK, whole_number, with_engine


def _when(record: KeyRecord) -> tuple[str, str]:
    created = record.created_at.isoformat(timespec="seconds")
    revoked = "-" if record.revoked_at is None else record.revoked_at.isoformat(timespec="seconds")
    return created, revoked


def _as_json(record: KeyRecord) -> dict[str, object]:
    created, revoked = _when(record)
    return {
        "id": record.key_id,
        "name": record.name,
        "scopes": sorted(record.scopes),
        "rate_limit": record.rate_limit,
        "created_at": created,
        "revoked_at": None if record.revoked_at is None else revoked,
    }


async def _create(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    record, key = await engine.keys().create(args.name, check_scopes(args.scope), args.rate_limit)
    out.write(key + "\n")
    sys.stderr.write(
        f"created API key {record.name} (id {record.key_id}, scope {', '.join(sorted(record.scopes))}); "
        "it is shown only now: the ledger keeps only its hash\n"
    )
    return EXIT_OK


async def _list(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    records = await engine.keys().all()
    if args.json:
        out.writelines(json.dumps(_as_json(r)) + "\n" for r in records)
        return EXIT_OK
    if not records:
        out.write("no API keys (serve on a loopback address runs open until one is created)\n")
        return EXIT_OK
    out.write(f"{'id':<12}  {'name':<24}  {'scopes':<16}  {'rate/s':>7}  {'created':<25}  revoked\n")
    for record in records:
        created, revoked = _when(record)
        rate = "-" if record.rate_limit is None else str(record.rate_limit)
        scopes = ",".join(sorted(record.scopes))
        name = record.name
        out.write(f"{record.key_id:<12}  {name:<24}  {scopes:<16}  {rate:>7}  {created:<25}  {revoked}\n")
    return EXIT_OK


async def _revoke(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    record = await engine.keys().revoke(args.key)
    _, revoked = _when(record)
    out.write(f"revoked API key {record.name} (id {record.key_id}) at {revoked}\n")
    return EXIT_OK


def add_keys_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``keys`` and its subcommands."""
    keys = commands.add_parser(
        "keys",
        help="API keys for serve: create (shown once), list, revoke",
        description="Keys are kept in the ledger as hashes, so every server of the ledger accepts "
        "the same ones. A server on a loopback address runs open until the first key is created; "
        "on any other address every call but /health needs a key. Scopes: read (every GET), post "
        "(entry sets), admin (everything, including reversals).",
    )
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key and print it (only this once)")
    create.add_argument("--name", required=True, help="a unique name (letters, digits, . _ -)")
    create.add_argument(
        "--scope", action="append", required=True, choices=SCOPES, help="what the key may do (repeatable)"
    )
    create.add_argument(
        "--rate-limit", type=whole_number, help="requests per second this key may make (per server process)"
    )
    create.set_defaults(handler=with_engine(_create))
    listing = actions.add_parser("list", help="every key, revoked ones too (never the keys themselves)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=with_engine(_list))
    revoke = actions.add_parser("revoke", help="revoke a key (servers refuse it within a second)")
    revoke.add_argument("key", metavar="ID|NAME", help="the key's id or name")
    revoke.set_defaults(handler=with_engine(_revoke))
