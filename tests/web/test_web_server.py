"""The server keeps its consoles on a leash: one that ignores "quit" is killed when its tab goes,
and none outlives the server (a stand-in console that never reads its input plays the stubborn one)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Callable

import aiohttp
import pytest

from ledger_tui.web import ConsoleCommand, loopback_guard, serve_console
from ledger_tui.web import server as web_server

#: Says it is a Textual app, then ignores its input and SIGTERM for a minute.
STUBBORN = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush(); time.sleep(60)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _until(condition: Callable[[], bool], within_s: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "waited too long"
        await asyncio.sleep(0.05)


async def test_a_console_that_ignores_quit_is_killed_and_none_outlives_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web_server, "QUIT_GRACE_S", 0.5)
    port, stop, ready = _free_port(), asyncio.Event(), asyncio.Event()
    started: list[int] = []
    real_exec = asyncio.create_subprocess_exec

    async def recorded(*argv: str, **options: object) -> asyncio.subprocess.Process:
        process = await real_exec(*argv, **options)  # type: ignore[arg-type]
        started.append(process.pid)
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recorded)
    command = ConsoleCommand([sys.executable, "-c", STUBBORN])
    serving = asyncio.create_task(serve_console(command, "127.0.0.1", port, middlewares=[loopback_guard()],
                                                on_ready=lambda url: ready.set(), stop=stop))  # fmt: skip
    await asyncio.wait_for(ready.wait(), 30)
    address = f"http://127.0.0.1:{port}/ws?width=100&height=30"
    async with aiohttp.ClientSession() as session:
        tab = await session.ws_connect(address)
        await _until(lambda: len(started) == 1)
        await tab.close()  # the tab goes; its console ignores "quit"
        await _until(lambda: not _alive(started[0]))
        tab = await session.ws_connect(address)
        await _until(lambda: len(started) == 2)
        stop.set()  # the server stops with a tab open
        await asyncio.wait_for(serving, 30)
        await tab.close()
    assert not [pid for pid in started if _alive(pid)]
