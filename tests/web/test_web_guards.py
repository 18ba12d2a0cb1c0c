"""Who reaches the console in a browser: loopback only (Host and Origin checked), or a key holder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Middleware

from ledger_tui.web import KeyCheck, is_loopback, key_guard, loopback_guard
from ledger_tui.web.guard import KEY_COOKIE

GOOD_KEY = "k-0123456789"

Client = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


async def _page(request: web.Request) -> web.Response:
    return web.Response(text="console page")


def _app(guard: Middleware) -> web.Application:
    app = web.Application(middlewares=[guard])
    app.add_routes([web.get("/", _page), web.get("/ws", _page), web.get("/static/x.js", _page)])
    return app


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    made: list[TestClient[web.Request, web.Application]] = []

    async def start(app: web.Application) -> TestClient[web.Request, web.Application]:
        started = TestClient(TestServer(app, host="127.0.0.1"))
        await started.start_server()
        made.append(started)
        return started

    yield start
    for started in made:
        await started.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.4", False), ("example.org", False), ("", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


async def test_the_loopback_guard_wants_our_own_host_and_origin(client: Client) -> None:
    served = await client(_app(loopback_guard()))
    own = f"127.0.0.1:{served.port}"
    assert (await served.get("/")).status == 200
    assert (await served.get("/", headers={"Host": f"localhost:{served.port}"})).status == 200
    # A name of some other site resolving here (DNS rebinding) is not us.
    assert (await served.get("/", headers={"Host": f"evil.example:{served.port}"})).status == 403
    assert (await served.get("/ws", headers={"Origin": f"http://{own}"})).status == 200
    assert (await served.get("/ws", headers={"Origin": "http://evil.example"})).status == 403
    assert (await served.get("/ws", headers={"Origin": "null"})).status == 403


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_the_key_guard_takes_a_bearer_key_or_the_login_forms_cookie(
    client: Client, asynchronous: bool
) -> None:
    seen: list[str] = []

    def accepts(key: str) -> bool:
        seen.append(key)
        return key == GOOD_KEY

    async def accepts_later(key: str) -> bool:
        return accepts(key)

    check: KeyCheck = accepts_later if asynchronous else accepts
    served = await client(_app(key_guard(check)))
    page = await served.get("/")
    assert page.status == 401 and 'name="key"' in await page.text()  # the login form
    assert (await served.get("/static/x.js")).status == 401
    assert (await served.get("/ws", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await served.get("/ws", headers={"Authorization": f"Bearer {GOOD_KEY}"})).status == 200
    assert (await served.get("/", headers={"Authorization": "Bearer " + "x" * 5000})).status == 401
    refused = await served.post("/login", data={"key": "wrong"}, allow_redirects=False)
    assert refused.status == 401 and KEY_COOKIE not in refused.cookies
    assert (await served.get("/")).status == 401
    taken = await served.post("/login", data={"key": GOOD_KEY}, allow_redirects=False)
    assert taken.status == 303 and taken.headers["Location"] == "/"
    cookie = taken.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert (await served.get("/")).status == 200  # the cookie now goes with every request
    assert (await served.get("/static/x.js")).status == 200
    assert "x" * 5000 not in seen  # an overlong key is refused unread
    own = f"http://127.0.0.1:{served.port}"
    assert (await served.get("/ws", headers={"Origin": own})).status == 200
    assert (
        await served.get("/ws", headers={"Origin": "http://evil.example"})
    ).status == 403  # even with the cookie
