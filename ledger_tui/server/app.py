"""The ASGI app: routes per area over one engine, errors as JSON, every request guarded."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.responses import PlainTextResponse, Response

from .. import __version__
from ..engine import Engine
from . import bulk, changes, holds, origin, reads, transactions
from .auth import KeyGuard, is_loopback
from .context import metrics_of
from .errors import install_error_handlers
from .fast_post import PATHS, FastPost
from .metrics import Metrics
from .middleware import ASGIApp, Receive, RequestGuard, Scope, Send
from .openapi_docs import install_openapi, ok, responses
from .settings import ServerSettings

DESCRIPTION = """\
An immutable, append-only double-entry ledger over HTTP, compatible with the origin service
(`POST /transactions`, `GET /balance`, `GET /health`) and more: JSON receipts, `Idempotency-Key`,
reversals, paged accounts and entries, per-currency balances with `as_of`, bulk posts, the change
feed (`GET /changes`).
Every call but `/health` needs `Authorization: Bearer KEY` (an API key from `ledger-tui keys
create`) unless the server listens on a loopback address and no key was ever created.
Errors are JSON `{error, field, reason}` (`problems` too when several fields are at fault).
Amounts are exact decimals (strings, except the origin's `amount`, an exact JSON number).
"""


class LedgerAPI(FastAPI):
    """FastAPI behind the request guard and the fast path for posts: every request passes the
    guard first, and an online post never enters FastAPI's middleware stack or routing."""

    front: ASGIApp

    async def routed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own handling (routes, docs, error handlers)."""
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)


def create_app(engine: Engine, settings: ServerSettings | None = None) -> LedgerAPI:
    """The HTTP app over a connected ``engine`` (the caller connects and closes it)."""
    settings = settings or ServerSettings()
    metrics = Metrics()
    app = LedgerAPI(title="ledger-tui", version=__version__, description=DESCRIPTION)
    app.state.engine, app.state.metrics, app.state.settings = engine, metrics, settings
    install_error_handlers(app, metrics)
    install_openapi(app)
    # bulk before transactions: /transactions/bulk fits /transactions/{txid} too, and the first
    # route a path fits names the methods a 405 allows
    for module in (origin, bulk, holds, transactions, reads, changes):
        app.include_router(module.router)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse, responses={
        **ok(200, "Counters", {"type": "string"}, "text/plain"), **responses()})  # fmt: skip
    async def metrics_text(request: Request) -> Response:
        """Counters in the Prometheus text format."""
        return PlainTextResponse(metrics_of(request).render(), media_type="text/plain; version=0.0.4")

    posts = {
        route.path: route
        for route in origin.router.routes
        if isinstance(route, APIRoute) and route.path in PATHS and "POST" in (route.methods or ())
    }
    if sorted(posts) != sorted(PATHS):  # a FastAPI that keeps routes elsewhere: fail loudly
        raise RuntimeError(f"the post routes {PATHS} were not found among the origin routes")
    fast = FastPost(app.routed, engine, metrics, posts)
    guarded = KeyGuard(
        fast, engine.keys().cache(), metrics,
        open_when_keyless=is_loopback(settings.host), rate_limit=settings.rate_limit,
    )  # fmt: skip
    app.front = RequestGuard(guarded, settings, metrics)
    return app
