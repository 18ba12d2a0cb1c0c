"""Run the app on uvicorn: connect first (a store that is down is one clear line, no traceback),
serve until SIGINT/SIGTERM, let requests in flight finish, then close the store and exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

from ..engine import Engine
from ..ledger import LedgerOptions, build_engine
from .app import create_app
from .auth import is_loopback
from .settings import ServerSettings

LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("ledger_tui.server")


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after a graceful shutdown (so the
    store is closed and the exit code is 0 on SIGTERM/SIGINT)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _OneLine(logging.Filter):
    """The driver logs expected failures (a statement prepared before ``schema apply``) with
    tracebacks; keep the message and the exception's one line, drop the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("cassandra") and record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} {type(error).__name__}: {str(error)[:300]}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def configure_logging(access_log: bool) -> None:
    """Server and access log lines to standard error (uvicorn's own loggers included)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("ledger_tui.server.access").setLevel(logging.INFO if access_log else logging.WARNING)
    driver = logging.getLogger("cassandra")
    driver.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_OneLine())


async def serve(
    options: LedgerOptions,
    settings: ServerSettings,
    *,
    apply_schema: bool = False,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve the ledger the options name until stopped (on ``sockets`` when given, else on the
    settings' host and port)."""
    engine = build_engine(options)
    if engine.named_balances_error is not None:  # a server must not start with half its config
        raise engine.named_balances_error
    await engine.connect()
    try:
        if apply_schema:
            await engine.apply_schema()
        config = uvicorn.Config(
            create_app(engine, settings),
            host=settings.host,
            port=settings.port,
            access_log=False,  # ours leaves out query strings
            log_config=None,
            server_header=False,
            proxy_headers=False,  # no proxy is trusted to name the client (the access log shows the peer)
            timeout_graceful_shutdown=round(settings.graceful_shutdown),
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
        )
        log.info("serving the %s ledger %s (docs at /docs)", engine.info.kind, engine.info.target)
        await _say_who_may_call(engine, settings)
        sweeper = asyncio.ensure_future(
            engine.holds().keep_swept(on_error=lambda error: log.warning("sweeping holds failed: %s", error))
        )
        try:
            await _Server(config).serve(sockets=sockets)
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
    finally:
        await engine.close()
        log.info("store closed")


async def _say_who_may_call(engine: Engine, settings: ServerSettings) -> None:
    """One line at start: open, keys needed, or closed until a key exists (and plain HTTP off
    this machine)."""
    records = await engine.keys().all()
    keys, ever = [record for record in records if record.active], bool(records)
    if is_loopback(settings.host) and not ever:
        log.warning(
            "no API key exists: every call is open to processes on this machine "
            "(create one with `ledger-tui keys create` to require keys)"
        )
    elif not keys:
        log.warning("no active API key: every call but /health is refused until `ledger-tui keys create`")
    else:
        log.info("every call but /health needs an API key (%d active)", len(keys))
    if settings.tls_cert is None and not is_loopback(settings.host):
        log.warning("plain HTTP off this machine: keys cross the network in clear (see --tls-cert)")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (a faster loop for many small requests), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(
    options: LedgerOptions,
    settings: ServerSettings,
    *,
    apply_schema: bool,
    access_log: bool,
    sockets: list[socket.socket] | None = None,
) -> None:
    """``ledger-tui serve``: blocks until the server stops; ledger errors reach the CLI's handler."""
    configure_logging(access_log)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(options, settings, apply_schema=apply_schema, sockets=sockets))
