"""``serve``: the HTTP API over the same ledger the other commands use."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import replace
from typing import TextIO

from ..server.settings import ServerSettings
from .common import EXIT_OK, UsageError, ledger_options


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``serve`` and its flags."""
    defaults = ServerSettings()
    serve = commands.add_parser(
        "serve", help="serve the HTTP API (the origin's endpoints and more; docs at /docs)"
    )
    serve.add_argument("--host", default=defaults.host, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=defaults.port, help="port (default 8080)")
    serve.add_argument("--apply-schema", action="store_true", help="create missing tables at startup")
    serve.add_argument(
        "--request-timeout", type=float, default=defaults.request_timeout, help="seconds per request (30)"
    )
    serve.add_argument("--no-access-log", action="store_true", help="log no line per request")
    serve.set_defaults(handler=serve_handler)


def serve_handler(args: argparse.Namespace, out: TextIO) -> int:
    """Serve until SIGINT/SIGTERM; requests in flight finish first."""
    if not 0 < args.port < 65536:
        raise UsageError("--port must be between 1 and 65535")
    if args.request_timeout <= 0:
        raise UsageError("--request-timeout must be more than 0 seconds")
    from ..server.serve import run  # uvicorn is imported only by this command

    settings = replace(ServerSettings(), host=args.host, port=args.port, request_timeout=args.request_timeout)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C during shutdown
        run(ledger_options(args), settings, apply_schema=args.apply_schema, access_log=not args.no_access_log)
    return EXIT_OK
