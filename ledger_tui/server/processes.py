"""Several server processes answering on one listening socket, watched by the process that made them.

Why: one CPython process answers requests on one core at most, and a post spends most of its
server time in Python (HTTP, JSON, the driver); processes that accept on one shared socket
use every core, each with its own engine and group commit. The parent binds the socket,
forks the servers (it has not run the driver: a fork copies only the forking thread), passes
SIGTERM/SIGINT on, and starts a server again if one dies after it had started well.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from types import FrameType

log = logging.getLogger("ledger_tui.server")

#: A server that dies sooner than this after its start is not started again (a store that is
#: down, a bad config): every server is stopped and the supervisor exits with its code.
STEADY_SECONDS = 10.0
#: More restarts than this within RESTART_WINDOW seconds stop every server (a server that dies
#: late at each start, e.g. connecting to a cluster that drops packets, is not restarted forever).
MOST_RESTARTS = 5
RESTART_WINDOW = 120.0
_STOPS = {signal.SIGTERM, signal.SIGINT}


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket children can inherit (IPv6 when ``host`` is one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Forks ``count`` servers; ``run`` returns None in each child (which then serves) and, in
    the parent, the exit code once every server has stopped."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._children: dict[int, float] = {}  # pid -> when it started
        self._restarts: list[float] = []
        self._stopping = False
        self._code = 0

    def run(self) -> int | None:
        """Start the servers and watch them (see the class)."""
        previous = {sig: signal.signal(sig, self._stop) for sig in _STOPS}  # before any fork
        try:
            for _ in range(self.count):
                if self._fork():
                    return None
            while self._children:
                pid, status = os.wait()
                started = self._children.pop(pid, None)
                if started is None:
                    continue
                code = os.waitstatus_to_exitcode(status)
                if self._stopping:
                    self._code = max(self._code, code if code > 0 else 0)
                    continue
                now = time.monotonic()
                self._restarts = [at for at in self._restarts if now - at < RESTART_WINDOW] + [now]
                if now - started < STEADY_SECONDS or len(self._restarts) > MOST_RESTARTS:
                    log.error("a server process stopped (exit %s) and will not be restarted: "
                              "stopping the others", code)  # fmt: skip
                    self._code = code if code > 0 else 1
                    self._stop(signal.SIGTERM, None)
                    continue
                log.error("server process %s ended (exit %s); starting another", pid, code)
                if self._fork():
                    return None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self._code

    def _fork(self) -> bool:
        """Start one server; True in the child. The stop signals wait during the fork, so a
        stop can neither miss the new server nor run in it as if it were the supervisor."""
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                return True
            self._children[pid] = time.monotonic()
            if self._stopping:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            return False
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        for pid in list(self._children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
