"""Who may reach the console in a browser: this machine only, or whoever holds a key.

Why: a console can post entries, and a browser runs other sites' scripts too: on loopback, a page
from elsewhere must neither open the console's websocket (Origin check) nor reach it under a name
of its own that resolves here (Host check); beyond loopback, every request carries a key that a
check given by the caller accepts (``Authorization: Bearer``, or one typed once into the login
form and kept in an HttpOnly cookie).
"""

from __future__ import annotations

import html
import inspect
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

#: Accepts or refuses an API key (it may be a coroutine function: a check may ask the ledger).
KeyCheck = Callable[[str], bool | Awaitable[bool]]

#: The cookie that keeps a key given at the login form.
KEY_COOKIE = "ledger_web_key"
LOGIN_PATH = "/login"
#: Longest key looked at (a longer one is refused unread).
MAX_KEY_LENGTH = 512
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})

_LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>ledger-tui</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>ledger-tui</h1><p>{message}</p>
<form method="post" action="{action}">
<label>API key <input type="password" name="key" autocomplete="off" autofocus></label>
<button type="submit">Open the console</button>
</form></body></html>
"""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine only."""
    name = host.strip().lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """The name in a Host header, without its port (``[::1]:8000`` -> ``[::1]``)."""
    if host_header.startswith("["):
        return host_header.partition("]")[0] + "]"
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


def loopback_guard() -> Middleware:
    """Requests must name this machine in their Host header, and a websocket opened by a page must
    come from a page of this server (its Origin is our own address)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if not is_loopback(_host_name(host)):
            return web.Response(status=403, text="this console answers on its loopback address only\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and origin != f"{request.scheme}://{host}":
            return web.Response(status=403, text="the console's websocket is for its own page only\n")
        return await handler(request)

    return guard


async def _accepted(check: KeyCheck, key: str | None) -> bool:
    if not key or len(key) > MAX_KEY_LENGTH:
        return False
    verdict = check(key)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return verdict is True


def _bearer(request: web.Request) -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def _login_page(message: str, status: int) -> web.Response:
    text = _LOGIN_PAGE.format(message=html.escape(message), action=LOGIN_PATH)
    return web.Response(status=status, text=text, content_type="text/html")


def key_guard(check: KeyCheck) -> Middleware:
    """Every request needs a key ``check`` accepts: a Bearer header, or the cookie the login form
    sets (``POST /login`` with a ``key`` field); the page itself shows the form until then. The
    websocket, as on loopback, opens only for a page of this server (Origin)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == LOGIN_PATH and request.method == "POST":
            form = await request.post()
            key = form.get("key")
            if not isinstance(key, str) or not await _accepted(check, key.strip()):
                return _login_page("That key was not accepted.", 401)
            answer = web.Response(status=303, headers={"Location": "/"})
            answer.set_cookie(
                KEY_COOKIE, key.strip(), httponly=True, samesite="Strict", secure=request.secure, path="/"
            )
            return answer
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and origin != f"{request.scheme}://{request.host}":
            return web.Response(status=403, text="the console's websocket is for its own page only\n")
        bearer = _bearer(request)
        key = bearer if bearer is not None else request.cookies.get(KEY_COOKIE)
        if await _accepted(check, key):
            return await handler(request)
        if request.path == "/" and request.method == "GET":
            return _login_page("This console needs an API key.", 401)
        return web.Response(status=401, text="an API key is needed\n", headers={"WWW-Authenticate": "Bearer"})

    return guard
