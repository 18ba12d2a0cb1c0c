"""``POST /transactions`` answered in plain ASGI, ahead of FastAPI's routing.

Why: for a two-leg post, routing, dependency solving and request objects cost the server
more CPU than parsing, validating and posting the set. The FastAPI route stays (it documents
the endpoint in OpenAPI and answers any other method); both answer through ``post_document``.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import LedgerError
from ..engine import Engine
from .errors import ApiError, refusal_response
from .idempotency import HEADER
from .metrics import Metrics
from .middleware import ASGIApp, Receive, Scope, Send
from .origin import post_document

PATHS = ("/transactions", "/transaction")
_IDEMPOTENCY = HEADER.lower().encode()


class FastPost:
    """Answers online posts itself and passes every other request on."""

    def __init__(self, app: ASGIApp, engine: Engine, metrics: Metrics, routes: dict[str, Any]) -> None:
        self.app, self.engine, self.metrics, self.routes = app, engine, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] != "POST" or path not in self.routes:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.routes[path]  # the metrics label the routed request would have
        content_type, key = "", None
        for name, value in scope["headers"]:
            if name == b"content-type" and not content_type:
                content_type = value.decode("latin-1")
            elif name == _IDEMPOTENCY and key is None:
                key = value.decode("latin-1")
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body arrived: nothing to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            response = await post_document(self.engine, self.metrics, body, content_type, key)
        except (ApiError, LedgerError) as error:
            response = refusal_response(error, self.metrics)
        await response(scope, receive, send)
