"""Commands over one ledger: schema, post, balance, entries, accounts, verify, show, reverse."""

from __future__ import annotations

import argparse
import csv
import json
import uuid
from typing import TextIO

from ..domain.address import AddressPattern, parse_address, parse_pattern
from ..domain.balance import BalanceRow
from ..domain.errors import NotFound, ValidationError
from ..domain.holds import Hold, Pending, held_json, with_held_currencies
from ..domain.model import Entry
from ..domain.money import MONEY_CONTEXT
from ..domain.parse import parse_transaction_id
from ..engine import Engine
from .common import (
    EXIT_DISCREPANCY,
    EXIT_OK,
    UsageError,
    instant_flag,
    range_flags,
    read_document,
    with_engine,
    write_json,
)
from .hold_commands import place_hold


async def _schema(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Create the keyspace and tables if missing."""
    await engine.apply_schema()
    out.write(f"schema applied to {engine.info.target}\n")
    return EXIT_OK


async def _post(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Post one entry set and print its receipt (with ``--pending``: hold it, print the hold)."""
    if args.pending:
        return await place_hold(args, engine, read_document(args.file), out)
    if args.expires_in is not None or args.expires_at is not None:
        raise UsageError("--expires-in and --expires-at go with --pending")
    receipt = await engine.post_json(read_document(args.file))
    write_json(out, receipt.to_json())
    return EXIT_OK


def _balance_table(rows: list[BalanceRow], out: TextIO, held: dict[str, Pending]) -> None:
    header: tuple[str, ...] = ("currency", "opening", "debits", "credits", "closing")
    if held:
        header += ("pending dr", "pending cr", "available")
    table = [header] + [
        (
            r.currency,
            str(r.opening),
            str(r.debits),
            str(r.credits),
            str(r.closing),
            *held_json(r, held).values(),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = (
            cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        out.write("  ".join(cells).rstrip() + "\n")
    if not rows:
        out.write("(no entries)\n")


async def _balance(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Balance of an address, a pattern or a named balance over a range; with holds pending on
    an address pattern, its pending debits and credits and what is available too."""
    target: AddressPattern | str = parse_pattern(args.address) if args.address else args.name
    as_of = instant_flag("--as-of", args.as_of)
    rows = await engine.balance(target, range_flags(args), as_of)
    held = {}
    if isinstance(target, AddressPattern):
        held = await engine.holds().pending_by_currency(target, as_of)
        rows = with_held_currencies(rows, held)
    if args.json:
        write_json(out, [{**row.to_json(), **held_json(row, held)} for row in rows])
    else:
        _balance_table(rows, out, held)
    return EXIT_OK


ENTRY_CSV_HEADER = ["effective_at", "type", "amount", "currency", "description", "transaction_id", "leg"]


def _csv_row(entry: Entry) -> list[object]:
    when = entry.effective_at.isoformat(timespec="milliseconds")
    return [when, entry.side.value, entry.amount, entry.address.currency, entry.description,
            entry.transaction_id, entry.leg_index]  # fmt: skip


def _table_line(entry: Entry) -> str:
    when = entry.effective_at.isoformat(timespec="milliseconds")
    return (
        f"{when}  {entry.side.value:6}  {entry.amount!s:>16}  {entry.description}  {entry.transaction_id}\n"
    )


async def _entries(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Every entry of one account in a range, as a table, CSV or JSON (streamed page by page)."""
    address, time_range, fmt = parse_address(args.address), range_flags(args), args.format
    if not await engine.buckets(address):  # every account with an entry has a bucket
        raise NotFound(f"no account {address} in this ledger (ledger-tui accounts lists them)")
    writer = csv.writer(out)
    if fmt == "csv":
        writer.writerow(ENTRY_CSV_HEADER)
    elif fmt == "json":
        out.write("[")
    first = True
    async for chunk in engine.iter_entries(address, time_range, instant_flag("--as-of", args.as_of)):
        for entry in chunk:
            if fmt == "json":
                out.write(("\n  " if first else ",\n  ") + json.dumps(entry.to_json()))
            elif fmt == "csv":
                writer.writerow(_csv_row(entry))
            else:
                out.write(_table_line(entry))
            first = False
    held = await engine.holds().held_legs(address, instant_flag("--as-of", args.as_of))
    if fmt == "json":  # a held leg is not an entry: marked pending, with its hold's expiry
        for hold, index in held:
            out.write(("\n  " if first else ",\n  ") + json.dumps(_held_json(hold, index)))
            first = False
        out.write("]\n" if first else "\n]\n")
    elif fmt == "table" and held:
        out.write("held, pending (not posted):\n")
        out.writelines(_held_line(hold, index) for hold, index in held)
    return EXIT_OK


def _held_json(hold: Hold, index: int) -> dict[str, object]:
    """A held leg as ``entries --format json`` shows it, after the posted entries."""
    leg = hold.transaction.legs[index]
    effective = leg.effective_at or hold.transaction.recorded_at
    return {
        "state": "pending",
        "address": leg.address.to_json(),
        "type": leg.side.value,
        "amount": str(leg.amount),
        "description": leg.description,
        "effective_at": effective.isoformat(timespec="milliseconds"),
        "transaction_id": str(hold.hold_id),
        "expires_at": hold.expires_at.isoformat(timespec="milliseconds"),
    }


def _held_line(hold: Hold, index: int) -> str:
    leg = hold.transaction.legs[index]
    until = hold.expires_at.isoformat(timespec="milliseconds")
    return f"until {until}  {leg.side.value:6}  {leg.amount!s:>16}  {leg.description}  {hold.hold_id}\n"


async def _accounts(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Every account in the ledger."""
    found = await engine.accounts()
    held = await engine.holds().pending()
    if args.json:  # an account with holds pending carries their totals
        write_json(out, [a.to_json() | _pending_json(held.get(a)) for a in found])
    else:
        out.writelines(f"{a}{_pending_text(held.get(a))}\n" for a in found)
    return EXIT_OK


def _pending_json(pending: Pending | None) -> dict[str, object]:
    """An account's pending totals, both in its currency's precision (none when nothing is held)."""
    if pending is None:
        return {}
    zero = MONEY_CONTEXT.multiply(pending.debits or pending.credits, 0)
    return {
        "pending_debits": str(MONEY_CONTEXT.add(zero, pending.debits)),
        "pending_credits": str(MONEY_CONTEXT.add(zero, pending.credits)),
    }


def _pending_text(pending: Pending | None) -> str:
    figures = _pending_json(pending)
    return f"  pending dr {figures['pending_debits']} cr {figures['pending_credits']}" if figures else ""


async def _verify(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Audit the whole ledger; exit 4 on any discrepancy."""
    report = await engine.verify(repair=not args.no_repair)
    out.write(
        f"transactions: {report.transactions}  entries: {report.entries}  accounts: {report.accounts}\n"
    )
    for currency, row in sorted(report.totals.items()):
        mark = "ok" if row.debits == row.credits else "MISMATCH"
        out.write(f"{currency}: debits {row.debits}  credits {row.credits}  {mark}\n")
    for problem in report.problems:
        out.write(f"problem: {problem}\n")
    if report.more_problems:
        out.write(f"problem: ... and {report.more_problems} more\n")
    out.write("verify: OK\n" if report.ok else f"verify: {len(report.problems)} problem(s)\n")
    return EXIT_OK if report.ok else EXIT_DISCREPANCY


def _transaction_id(text: str) -> uuid.UUID:
    try:
        return parse_transaction_id(text)
    except ValueError as error:
        raise ValidationError.single("transaction_id", str(error)) from None


async def _show(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """One transaction with all its legs."""
    txid = _transaction_id(args.transaction_id)
    transaction = await engine.transaction(txid)
    write_json(
        out,
        {
            "transaction_id": str(txid),
            "recorded_at": transaction.recorded_at.isoformat(timespec="milliseconds"),
            "entries": [e.to_json() for e in transaction.entries()],
        },
    )
    return EXIT_OK


async def _reverse(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    """Post the reversal of a transaction and print its receipt."""
    receipt = await engine.reverse(_transaction_id(args.transaction_id))
    write_json(out, receipt.to_json())
    return EXIT_OK


schema, post, balance, entries, accounts, verify, show, reverse = (
    with_engine(work) for work in (_schema, _post, _balance, _entries, _accounts, _verify, _show, _reverse)
)
