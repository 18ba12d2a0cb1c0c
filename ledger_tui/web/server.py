"""textual-serve's server with the console's processes kept on a leash, until SIGINT or SIGTERM.

Why: each browser tab runs its own console process; one whose browser vanished may stay busy and
outlive SIGTERM and the server, so every process started here is tracked, asked to quit when its
tab closes, killed if it does not, and killed when the server stops. The process gets its settings
through the environment (not its command line, which ``ps`` shows to everyone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Middleware
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("ledger_tui.web")

#: Seconds a console has to quit once its tab is gone before it is killed.
QUIT_GRACE_S = 3.0
#: Terminal sizes a browser may ask for (cells).
MAX_COLUMNS, MAX_ROWS = 1000, 500


class CannotListen(Exception):
    """The address cannot be listened on (in use, not ours, not resolvable)."""


@dataclass(frozen=True, slots=True)
class ConsoleCommand:
    """How to start one console: its argv (run without a shell) and what it adds to the environment."""

    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict, repr=False)
    title: str = "ledger-tui"


def _kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the process's group (it leads one: see ``start_new_session``), or the process."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


class _ConsoleProcess(AppService):
    """One tab's console: started without a shell in a session of its own, tracked, killed if it
    does not quit when asked."""

    def __init__(self, console: ConsoleCommand, children: set[asyncio.subprocess.Process], **kw: Any) -> None:
        super().__init__(console.title, **kw)
        self._console, self._children = console, children

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        environment = self._build_environment(width=width, height=height) | self._console.env
        pipe = asyncio.subprocess.PIPE
        process = await asyncio.create_subprocess_exec(
            *self._console.argv, stdin=pipe, stdout=pipe, stderr=pipe, env=environment, start_new_session=True
        )
        self._children.add(process)
        self._process, self._stdin = process, process.stdin
        return process

    async def stop(self) -> None:
        """Ask the console to quit; kill it when it has not within QUIT_GRACE_S."""
        process = self._process
        stopping = asyncio.ensure_future(super().stop())  # sends "quit", waits for its output to end
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE_S)
            except TimeoutError:
                log.warning("a console (pid %s) did not quit when asked: killed", process.pid)
                _kill(process)
                await process.wait()
            self._children.discard(process)
        await stopping


def _size(value: object, default: int, most: int) -> int:
    """A terminal dimension from the browser, within 1..most (anything else: the default)."""
    return value if isinstance(value, int) and 0 < value <= most else default


class ConsoleServer(Server):
    """textual-serve's routes and page; our websocket handler (tracked processes, checked input)."""

    def __init__(self, console: ConsoleCommand, host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        super().__init__(console.title, host=host, port=port, title=console.title,
                         public_url=f"http://{shown}:{port}")  # fmt: skip
        self.console_command = console
        self.children: set[asyncio.subprocess.Process] = set()
        self._sockets: set[web.WebSocketResponse] = set()

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page, its script, styles and websocket addressed as the browser addressed us (so a
        page opened as localhost, or by a name, talks to that name and sends its cookies there)."""
        self.public_url = f"{request.scheme}://{request.host}"
        answer: web.StreamResponse = await super().handle_index(request)
        return answer

    async def on_startup(self, app: web.Application) -> None:
        """No banner: the command prints its own line."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab's websocket, so each handler stops its console and returns."""
        for socket in list(self._sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")

    def kill_children(self) -> None:
        """SIGKILL every console still running."""
        for process in list(self.children):
            _kill(process)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: a console process wired to the websocket until either side goes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        columns = _size(_int(request.query.get("width")), 80, MAX_COLUMNS)
        rows = _size(_int(request.query.get("height")), 24, MAX_ROWS)
        await websocket.prepare(request)
        self._sockets.add(websocket)
        service = _ConsoleProcess(
            self.console_command,
            self.children,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        try:
            await service.start(columns, rows)
            try:
                await self._process_messages(websocket, service)
            finally:
                await asyncio.shield(service.stop())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        except OSError as error:  # the console could not be started
            log.error("cannot start a console: %s", error)
        finally:
            self._sockets.discard(websocket)
            await websocket.close()
        return websocket

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        """The browser's keys, sizes and pings; anything malformed is ignored."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                columns = _size(data.get("width"), 0, MAX_COLUMNS)
                rows = _size(data.get("height"), 0, MAX_ROWS)
                if columns and rows:
                    await app_service.set_terminal_size(columns, rows)
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) < 6 else None


async def serve_console(
    console: ConsoleCommand,
    host: str,
    port: int,
    *,
    middlewares: Sequence[Middleware] = (),
    on_ready: Callable[[str], None] = lambda url: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve ``console`` on host:port behind ``middlewares`` until SIGINT, SIGTERM or ``stop``; then
    close the tabs, kill what is left of their consoles and return. CannotListen if the port is
    not ours."""
    server = ConsoleServer(console, host, port)
    app = await server._make_app()
    app.middlewares.extend(middlewares)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=QUIT_GRACE_S + 2)
    await runner.setup()
    stop = asyncio.Event() if stop is None else stop
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            reason = os.strerror(error.errno) if error.errno else str(error)
            raise CannotListen(f"cannot listen on {host}:{port}: {reason.lower()}") from None
        on_ready(server.public_url)
        await stop.wait()
    finally:
        try:
            await runner.cleanup()
        finally:
            server.kill_children()
            for process in list(server.children):
                await process.wait()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)
