"""``ledger-tui`` command line: the console by default, plus scriptable ledger commands.

Exit codes: 0 ok, 1 rejected input (nothing written), 2 usage, 3 store unavailable or busy,
4 verify found discrepancies, 5 access denied (credentials refused or missing), 6 TLS error,
70 unexpected error (logged to a file), 130 interrupted. User errors print one clear line,
never a traceback.
"""

from __future__ import annotations

import os
import sys

from ..domain.errors import (
    AccessDenied,
    BrokerUnavailable,
    LedgerError,
    StoreBusy,
    StoreUnavailable,
    TlsFailure,
)
from .common import (
    EXIT_ACCESS_DENIED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_TLS,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    Handler,
    UsageError,
)
from .guard import report_unexpected
from .parser import build_parser

__all__ = ["build_parser", "main"]

#: How each kind of refusal is printed and which exit code it gives, most specific first.
_REFUSALS: tuple[tuple[type[LedgerError], str, int], ...] = (
    (StoreBusy, "store busy: ", EXIT_UNAVAILABLE),
    (BrokerUnavailable, "broker unavailable: ", EXIT_UNAVAILABLE),
    (StoreUnavailable, "store unavailable: ", EXIT_UNAVAILABLE),
    (AccessDenied, "", EXIT_ACCESS_DENIED),
    (TlsFailure, "", EXIT_TLS),
)


def _refusal_of(error: LedgerError) -> tuple[str, int]:
    """The line prefix and exit code for a ledger error (anything unlisted: rejected input)."""
    for kind, prefix, code in _REFUSALS:
        if isinstance(error, kind):
            return prefix, code
    return "rejected: ", EXIT_REJECTED


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ledger-tui`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, sys.stdout)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"ledger-tui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except LedgerError as error:
        prefix, code = _refusal_of(error)
        print(f"ledger-tui: {prefix}{error}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        hint = ""
        if args.command in ("load-sample", "demo"):
            hint = ": every set posted so far is complete; rerun with the same --seed to resume"
        print(f"ledger-tui: interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. piped into head: not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # a bug: logged to a file, one line on the terminal
        print(report_unexpected(error, args.command), file=sys.stderr)
        return EXIT_INTERNAL
