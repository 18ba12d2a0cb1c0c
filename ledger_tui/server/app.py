"""The ASGI app: routes per area over one engine, errors as JSON, every request guarded."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import PlainTextResponse, Response

from .. import __version__
from ..engine import Engine
from . import bulk, origin, reads, transactions
from .context import metrics_of
from .errors import install_error_handlers
from .metrics import Metrics
from .middleware import RequestGuard
from .settings import ServerSettings

DESCRIPTION = """\
An immutable, append-only double-entry ledger over HTTP, compatible with the origin service
(`POST /transactions`, `GET /balance`, `GET /health`) and more: JSON receipts, `Idempotency-Key`,
reversals, paged accounts and entries, per-currency balances with `as_of`, bulk posts.
Errors are JSON `{error, field, reason}`. Amounts are exact decimals (strings, except the
origin's `amount`, an exact JSON number).
"""


def create_app(engine: Engine, settings: ServerSettings | None = None) -> FastAPI:
    """The HTTP app over a connected ``engine`` (the caller connects and closes it)."""
    settings = settings or ServerSettings()
    metrics = Metrics()
    app = FastAPI(title="ledger-tui", version=__version__, description=DESCRIPTION)
    app.state.engine, app.state.metrics, app.state.settings = engine, metrics, settings
    install_error_handlers(app, metrics)
    for module in (origin, transactions, bulk, reads):
        app.include_router(module.router)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics_text(request: Request) -> Response:
        """Counters in the Prometheus text format."""
        return PlainTextResponse(metrics_of(request).render(), media_type="text/plain; version=0.0.4")

    app.add_middleware(RequestGuard, settings=settings, metrics=metrics)
    return app
