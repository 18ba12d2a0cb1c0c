"""The console in a browser: textual-serve's server, one console process per tab, and its guards.

Why a package of its own: it is a face like the HTTP API, but it never touches a ledger itself
(each tab's console process does), so it imports neither the stores nor the engine.
"""

from .guard import KeyCheck, is_loopback, key_guard, loopback_guard
from .server import CannotListen, ConsoleCommand, serve_console

__all__ = [
    "CannotListen",
    "ConsoleCommand",
    "KeyCheck",
    "is_loopback",
    "key_guard",
    "loopback_guard",
    "serve_console",
]
