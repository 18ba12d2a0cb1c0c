"""What every command shares: exit codes, usage errors, flag parsing and the engine wrapper."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from ..domain.document import read_bounded
from ..domain.errors import ValidationError
from ..domain.text import shown
from ..domain.timeutil import TimeRange, parse_instant
from ..engine import Engine
from ..ledger import Credentials, LedgerOptions, open_ledger
from ..settings import Settings, SettingsError, load_settings

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_DISCREPANCY = 0, 1, 2, 3, 4
#: Credentials refused (or missing, or a permission lacking); a TLS connection that failed.
EXIT_ACCESS_DENIED, EXIT_TLS = 5, 6
#: A bug: the traceback went to the error log (see cli/guard.py), one line to the terminal.
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
#: Every exit code and what it means (the --help text is generated from this).
EXIT_CODES = (
    (EXIT_OK, "ok"),
    (EXIT_REJECTED, "rejected (nothing written)"),
    (EXIT_USAGE, "usage (a bad flag or config file)"),
    (EXIT_UNAVAILABLE, "store unavailable or busy (or a write not confirmed: retry with the same id)"),
    (EXIT_DISCREPANCY, "verify found a discrepancy"),
    (EXIT_ACCESS_DENIED, "access denied"),
    (EXIT_TLS, "TLS error"),
    (EXIT_INTERNAL, "unexpected error (logged)"),
    (EXIT_INTERRUPTED, "interrupted"),
)

#: A command: the parsed flags and where to print; returns the exit code.
Handler = Callable[[argparse.Namespace, TextIO], int]
#: The body of a command that needs a connected engine.
EngineWork = Callable[[argparse.Namespace, Engine, TextIO], Awaitable[int]]


class UsageError(Exception):
    """A flag value that cannot be used (exit 2)."""


def whole_number(text: str) -> int:
    """An argparse ``type`` for counts and seeds: ASCII digits only (int() takes '١٢' and '1_0')."""
    if not re.fullmatch(r"-?[0-9]{1,18}", text):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number (ASCII digits)")
    return int(text)


def seconds(text: str) -> float:
    """An argparse ``type`` for a number of seconds: ASCII digits with an optional fraction."""
    if not re.fullmatch(r"-?[0-9]{1,9}(\.[0-9]{1,6})?", text):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number of seconds (ASCII digits)")
    return float(text)


def ledger_options(args: argparse.Namespace) -> LedgerOptions:
    """The store, credentials and named-balances choice the global flags make (and ``seal --margin``)."""
    margin = getattr(args, "margin", None)
    if margin is not None and margin < 0:
        raise UsageError("--margin must be zero or more seconds")
    settings = config_settings()
    options = LedgerOptions(
        store=args.store or (None if os.environ.get("LEDGER_STORE") else settings.store),
        balances=args.balances or (None if os.environ.get("LEDGER_BALANCES") else settings.balances),
        credentials_file=getattr(args, "credentials", None),
        credentials=prompted_credentials() if getattr(args, "ask_password", False) else None,
    )
    return options if margin is None else replace(options, seal_margin=timedelta(seconds=margin))


def config_settings() -> Settings:
    """The user's config file (a bad one is a usage error naming the key and the reason)."""
    try:
        return load_settings()
    except SettingsError as error:
        raise UsageError(str(error)) from None


def prompted_credentials() -> Credentials:
    """A username and password typed at the terminal (the password is not echoed)."""
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise UsageError("--ask-password needs a terminal (or use LEDGER_CASSANDRA_* / --credentials)")
    username = input("Cassandra username: ").strip()
    if not username:
        raise UsageError("a username is needed")
    return Credentials(username, getpass.getpass("Cassandra password: "), "prompt")


def with_engine(work: EngineWork) -> Handler:
    """A handler that runs ``work`` on a connected engine (closed afterwards, also on error)."""

    def handler(args: argparse.Namespace, out: TextIO) -> int:
        async def run() -> int:
            async with open_ledger(ledger_options(args)) as engine:
                return await work(args, engine, out)

        return asyncio.run(run())

    handler.__doc__ = work.__doc__
    return handler


def instant_flag(flag: str, text: str | None) -> datetime | None:
    """An ISO 8601 / epoch-ms flag value (UTC unless it says otherwise), or a usage error."""
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as error:
        raise UsageError(f"{flag}: {error}") from None


def range_flags(args: argparse.Namespace) -> TimeRange:
    """``--start``/``--end`` as a half-open range."""
    start, end = instant_flag("--start", args.start), instant_flag("--end", args.end)
    try:
        return TimeRange(start, end)
    except ValueError as error:
        raise UsageError(str(error)) from None


def write_json(out: TextIO, data: object) -> None:
    """Indented JSON and a newline."""
    import json

    json.dump(data, out, indent=2)
    out.write("\n")


@contextlib.contextmanager
def on_stop_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT and SIGTERM ask ``stop`` to finish what is in hand (instead of killing mid-way)."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop)
    try:
        yield
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)


def read_document(name: str) -> bytes:
    """The raw bytes of a document (at most 16 MiB are read): decoding is the parser's job."""
    if name == "-":
        return read_bounded(sys.stdin.buffer)
    try:
        with Path(name).open("rb") as stream:
            return read_bounded(stream)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValidationError.single("file", f"cannot read {shown(name)}: {reason}") from None
