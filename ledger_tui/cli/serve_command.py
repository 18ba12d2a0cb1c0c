"""``serve``: the HTTP API over the same ledger the other commands use."""

from __future__ import annotations

import argparse
import contextlib
import socket
import ssl
from dataclasses import replace
from typing import TextIO

from ..domain.keys import MAX_RATE
from ..ledger import LedgerOptions, open_ledger
from ..server.settings import ServerSettings
from ..store.url import CassandraUrl, parse_store_url
from .common import EXIT_OK, UsageError, ledger_options, whole_number
from .forked import in_a_forked_child

#: Most server processes one ``serve`` starts.
MAX_PROCESSES = 64


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
    serve.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate chain (PEM)")
    serve.add_argument("--tls-key", metavar="FILE", help="... and this private key (PEM, unencrypted)")
    serve.add_argument(
        "--rate-limit",
        type=whole_number,
        help="requests per second per API key and server process, for keys without their own "
        "(default: no limit); over it: 429 with Retry-After",
    )
    serve.add_argument(
        "--processes",
        type=whole_number,
        default=1,
        help="server processes sharing the port, each with its own connections (default 1; "
        "docs/http-online-path.md says how many for a core count)",
    )
    serve.set_defaults(handler=serve_handler)


def serve_handler(args: argparse.Namespace, out: TextIO) -> int:
    """Serve until SIGINT/SIGTERM; requests in flight finish first."""
    if not 0 < args.port < 65536:
        raise UsageError("--port must be between 1 and 65535")
    if args.request_timeout <= 0:
        raise UsageError("--request-timeout must be more than 0 seconds")
    if not 1 <= args.processes <= MAX_PROCESSES:
        raise UsageError(f"--processes must be between 1 and {MAX_PROCESSES}")
    if args.rate_limit is not None and not 1 <= args.rate_limit <= MAX_RATE:
        raise UsageError(f"--rate-limit must be between 1 and {MAX_RATE} requests per second")
    _check_tls(args.tls_cert, args.tls_key)
    from ..server.serve import run  # uvicorn is imported only by this command

    settings = replace(
        ServerSettings(),
        host=args.host,
        port=args.port,
        request_timeout=args.request_timeout,
        rate_limit=args.rate_limit,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    options = ledger_options(args)
    sockets = None
    if args.processes > 1 and not isinstance(parse_store_url(options.store), CassandraUrl):
        raise UsageError("--processes: the embedded store has one writer; serve it from one process")
    if args.processes > 1:
        sockets, code = _forked_servers(args, options, settings)
        if sockets is None:
            return code
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C during shutdown
        run(options, settings, apply_schema=args.apply_schema and sockets is None,
            access_log=not args.no_access_log, sockets=sockets)  # fmt: skip
    return EXIT_OK


def _check_tls(cert: str | None, key: str | None) -> None:
    """Both TLS files or neither, and a pair that loads (a bad one is one line, not a traceback)."""
    if (cert is None) != (key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if cert is None or key is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key, password=_no_password)
    except (ssl.SSLError, ValueError) as error:  # before OSError: an SSLError is an OSError
        reason = getattr(error, "reason", None) or "not a PEM certificate and its unencrypted private key"
        raise UsageError(f"--tls-cert/--tls-key: cannot be used: {reason}") from None
    except OSError as error:
        raise UsageError(f"--tls-cert/--tls-key: cannot read {error.filename}: {error.strerror}") from None


def _no_password() -> str:
    raise ValueError("the private key is encrypted")


def _forked_servers(
    args: argparse.Namespace, options: LedgerOptions, settings: ServerSettings
) -> tuple[list[socket.socket] | None, int]:
    """Bind the port, apply the schema (in a child: no driver may run here before the fork),
    fork the servers; in each server, its socket; here, once all have stopped, the exit code."""
    from ..server.processes import Supervisor, listening_socket

    try:
        listening = listening_socket(settings.host, settings.port)
    except OSError as error:
        raise UsageError(f"cannot listen on {settings.host}:{settings.port}: {error.strerror}") from None
    if args.apply_schema:
        in_a_forked_child(lambda: _apply_schema(options), "schema apply")
    code = Supervisor(args.processes).run()
    if code is None:
        return [listening], EXIT_OK
    listening.close()
    return None, code


async def _apply_schema(options: LedgerOptions) -> None:
    async with open_ledger(options) as engine:
        await engine.apply_schema()
