"""``ledger-tui`` command line: the console by default, plus scriptable ledger commands.

Exit codes: 0 ok, 1 rejected input (nothing written), 2 usage, 3 store unavailable,
4 verify found discrepancies. User errors print one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from .domain.balance import AddressPattern, BalanceRow, load_named_balances, parse_address, parse_pattern
from .domain.errors import LedgerError, NotFound, StoreUnavailable, ValidationError
from .domain.model import Address
from .domain.timeutil import TimeRange, parse_instant
from .engine import Engine
from .paths import SAMPLE_BALANCES
from .store.url import SqliteUrl, parse_store_url
from .stores import open_store

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_DISCREPANCY = 0, 1, 2, 3, 4


class UsageError(Exception):
    """A flag value that cannot be used (exit 2)."""


def _instant_arg(flag: str, text: str | None) -> object:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as error:
        raise UsageError(f"{flag}: {error}") from None


def _range(args: argparse.Namespace) -> TimeRange:
    start, end = _instant_arg("--start", args.start), _instant_arg("--end", args.end)
    try:
        return TimeRange(start, end)  # type: ignore[arg-type]
    except ValueError as error:
        raise UsageError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by tests to check usage errors)."""
    parser = argparse.ArgumentParser(
        prog="ledger-tui",
        description="Terminal console and tools for an append-only double-entry ledger.",
        epilog="Store URLs: sqlite:PATH | cassandra://HOST[,HOST][:PORT]/KEYSPACE"
        "[?consistency=LOCAL_QUORUM&dc=DC&replication=1]. Env: LEDGER_STORE, LEDGER_BALANCES.",
    )
    parser.add_argument("--store", help="store URL (default: $LEDGER_STORE or the user's ledger file)")
    parser.add_argument(
        "--balances", type=Path, help="named balances TOML (default: $LEDGER_BALANCES or the sample)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    schema = commands.add_parser("schema", help="manage the schema")
    schema.add_argument("action", choices=["apply"])

    post = commands.add_parser("post", help="post an entry set (the origin's transaction.json format)")
    post.add_argument("file", help="JSON file, or - for standard input")

    balance = commands.add_parser("balance", help="balance of an address or a named balance")
    target = balance.add_mutually_exclusive_group(required=True)
    target.add_argument("--address", help="LE/NS/NAME/CUR/ACCT (ACCT may be *)")
    target.add_argument("--name", help="a named balance from the balances file")
    balance.add_argument("--start", help="range start, inclusive (ISO 8601 or epoch ms; UTC default)")
    balance.add_argument("--end", help="range end, exclusive")
    balance.add_argument("--json", action="store_true", help="print JSON")

    entries = commands.add_parser("entries", help="entries of one account")
    entries.add_argument("--address", required=True, help="LE/NS/NAME/CUR/ACCT")
    entries.add_argument("--start")
    entries.add_argument("--end")
    entries.add_argument("--format", choices=["table", "csv", "json"], default="table")

    accounts = commands.add_parser("accounts", help="list every account")
    accounts.add_argument("--json", action="store_true")

    commands.add_parser("verify", help="check the whole ledger balances")

    reverse = commands.add_parser("reverse", help="post the reversal of a transaction")
    reverse.add_argument("transaction_id")

    show = commands.add_parser("show", help="show one transaction with all its legs")
    show.add_argument("transaction_id")

    from .loader import add_loader_commands

    add_loader_commands(commands)
    return parser


def named_balances_path(args: argparse.Namespace) -> Path | None:
    """The named-balances TOML to use: --balances, $LEDGER_BALANCES, or the bundled sample."""
    if args.balances:
        return Path(args.balances)
    if os.environ.get("LEDGER_BALANCES"):
        return Path(os.environ["LEDGER_BALANCES"])
    return SAMPLE_BALANCES if SAMPLE_BALANCES.exists() else None


def make_engine(args: argparse.Namespace) -> Engine:
    """An engine over the store the arguments name (not yet connected)."""
    url = parse_store_url(args.store)
    path = named_balances_path(args)
    named = load_named_balances(path) if path is not None and args.command == "balance" else {}
    return Engine(open_store(url), named_balances=named)


async def _with_engine(args: argparse.Namespace, work: Callable[[Engine], Awaitable[int]]) -> int:
    engine = make_engine(args)
    await engine.store.connect()
    try:
        if isinstance(parse_store_url(args.store), SqliteUrl):
            await engine.store.apply_schema()  # the embedded store sets itself up
        return await work(engine)
    finally:
        await engine.store.close()


def _print_balance(rows: list[BalanceRow], as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump([row.to_json() for row in rows], out, indent=2)
        out.write("\n")
        return
    header = ("currency", "opening", "debits", "credits", "closing")
    table = [header] + [
        (r.currency, str(r.opening), str(r.debits), str(r.credits), str(r.closing)) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        out.write(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            + "\n"
        )
    if not rows:
        out.write("(no entries)\n")


async def _run(args: argparse.Namespace, out: TextIO) -> int:
    command = args.command
    if command == "schema":

        async def apply(engine: Engine) -> int:
            await engine.store.apply_schema()
            out.write(f"schema applied to {engine.store.info.target}\n")
            return EXIT_OK

        return await _with_engine(args, apply)

    if command == "post":
        text = sys.stdin.read() if args.file == "-" else _read_file(args.file)

        async def post(engine: Engine) -> int:
            receipt = await engine.post_json(text)
            json.dump(receipt.to_json(), out, indent=2)
            out.write("\n")
            return EXIT_OK

        return await _with_engine(args, post)

    if command == "balance":
        time_range = _range(args)
        target: AddressPattern | str = parse_pattern(args.address) if args.address else args.name

        async def balance(engine: Engine) -> int:
            _print_balance(await engine.balance(target, time_range), args.json, out)
            return EXIT_OK

        return await _with_engine(args, balance)

    if command == "entries":
        time_range = _range(args)
        address = parse_address(args.address)
        return await _with_engine(
            args, lambda engine: _print_entries(engine, address, time_range, args.format, out)
        )

    if command == "accounts":

        async def accounts(engine: Engine) -> int:
            found = await engine.accounts()
            if args.json:
                json.dump([a.to_json() for a in found], out, indent=2)
                out.write("\n")
            else:
                out.writelines(f"{a}\n" for a in found)
            return EXIT_OK

        return await _with_engine(args, accounts)

    if command == "verify":

        async def verify(engine: Engine) -> int:
            report = await engine.verify()
            out.write(
                f"transactions: {report.transactions}  entries: {report.entries}  "
                f"accounts: {report.accounts}\n"
            )
            for currency, (debits, credits) in sorted(report.totals.items()):
                mark = "ok" if debits == credits else "MISMATCH"
                out.write(f"{currency}: debits {debits}  credits {credits}  {mark}\n")
            for problem in report.problems:
                out.write(f"problem: {problem}\n")
            out.write("verify: OK\n" if report.ok else f"verify: {len(report.problems)} problem(s)\n")
            return EXIT_OK if report.ok else EXIT_DISCREPANCY

        return await _with_engine(args, verify)

    if command in ("reverse", "show"):
        try:
            txid = uuid.UUID(args.transaction_id)
        except ValueError:
            raise ValidationError.single("transaction_id", f"{args.transaction_id!r} is not a UUID") from None

        async def by_id(engine: Engine) -> int:
            if command == "reverse":
                json.dump((await engine.reverse(txid)).to_json(), out, indent=2)
            else:
                transaction = await engine.transaction(txid)
                json.dump(
                    {
                        "transaction_id": str(txid),
                        "recorded_at": transaction.recorded_at.isoformat(timespec="milliseconds"),
                        "entries": [e.to_json() for e in transaction.entries()],
                    },
                    out,
                    indent=2,
                )
            out.write("\n")
            return EXIT_OK

        return await _with_engine(args, by_id)

    from .loader import run_loader_command

    return await run_loader_command(args, out)


def _read_file(name: str) -> str:
    try:
        return Path(name).read_text()
    except OSError as error:
        raise ValidationError.single("file", f"cannot read {name}: {error.strerror}") from None


async def _print_entries(
    engine: Engine, address: Address, time_range: TimeRange, fmt: str, out: TextIO
) -> int:
    token = None
    writer = csv.writer(out) if fmt == "csv" else None
    if writer:
        writer.writerow(
            ["effective_at", "type", "amount", "currency", "description", "transaction_id", "leg"]
        )
    first = True
    if fmt == "json":
        out.write("[")
    while True:
        page = await engine.entries(address, time_range, page_size=1000, token=token)
        for entry in page.items:
            if fmt == "json":
                out.write(("\n  " if first else ",\n  ") + json.dumps(entry.to_json()))
            elif writer:
                writer.writerow(
                    [
                        entry.effective_at.isoformat(timespec="milliseconds"),
                        entry.side.value,
                        entry.amount,
                        entry.address.currency,
                        entry.description,
                        entry.transaction_id,
                        entry.leg_index,
                    ]
                )
            else:
                out.write(
                    f"{entry.effective_at.isoformat(timespec='milliseconds')}  {entry.side.value:6}  "
                    f"{entry.amount!s:>16}  {entry.description}  {entry.transaction_id}\n"
                )
            first = False
        if page.next_token is None:
            break
        token = page.next_token
    if fmt == "json":
        out.write("\n]\n" if not first else "]\n")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ledger-tui`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from .app.main import run_console

            return int(run_console(args))
        code = asyncio.run(_run(args, sys.stdout))
        if code == EXIT_OK and getattr(args, "open_console", False):
            from .app.main import run_console

            return int(run_console(args))
        return code
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"ledger-tui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreUnavailable as error:
        print(f"ledger-tui: store unavailable: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (ValidationError, NotFound, LedgerError) as error:
        print(f"ledger-tui: rejected: {error}", file=sys.stderr)
        return EXIT_REJECTED
    except KeyboardInterrupt:
        hint = ""
        if args.command in ("load-sample", "demo"):
            hint = ": every set posted so far is complete; rerun with the same --seed to resume"
        print(f"ledger-tui: interrupted{hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head: not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
