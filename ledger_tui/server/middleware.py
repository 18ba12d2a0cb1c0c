"""The guard every HTTP request passes: body limit, time limit, access log, counters, last-resort 500.

One plain ASGI middleware (no per-request objects beyond two closures) so the guarantees
cost little on the hot post path. The access log names method, path (no query string),
status, size, time and the calling key's name; never a body, a header value or a query value.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .errors import REQUEST_ID, BodyTooLarge, error_body, internal_error_reason
from .metrics import Metrics
from .settings import ServerSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where the key guard leaves the calling key's name in the ASGI scope.
KEY_NAME = "ledger_tui.key"
access_log = logging.getLogger("ledger_tui.server.access")
log = logging.getLogger("ledger_tui.server")
BULK_PATH = "/transactions/bulk"


class RequestGuard:
    """Wraps the app: limits, access log and counters for every HTTP request."""

    def __init__(self, app: ASGIApp, settings: ServerSettings, metrics: Metrics) -> None:
        self.app, self.settings, self.metrics = app, settings, metrics
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bulk = scope["path"] == BULK_PATH
        limit = self.settings.max_bulk_body if bulk else self.settings.max_body
        seconds = self.settings.bulk_timeout if bulk else self.settings.request_timeout
        request_id = scope[REQUEST_ID] = f"{next(self._ids):x}"
        started = time.perf_counter()
        state = {"status": 0, "sent": 0, "received": 0}

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body":
                state["sent"] += len(message.get("body", b""))
            await send(message)

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    raise BodyTooLarge(limit)
            return message

        self.metrics.in_flight += 1
        try:
            if _declared_length(scope) > limit:
                await _answer(guarded_send, 413, f"the body is larger than {limit} bytes")
            else:
                await self._run(scope, limited_receive, guarded_send, seconds, limit, state, request_id)
        finally:
            self.metrics.in_flight -= 1
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], label, state["status"], elapsed)
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s" %s %dB %.1fms id=%s key=%s',
                client[0], scope["method"], logged(scope["path"]), state["status"], state["sent"],
                elapsed * 1000, request_id, scope.get(KEY_NAME, "-"),
            )  # fmt: skip

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, seconds: float, limit: int,
        state: dict[str, int], request_id: str,
    ) -> None:  # fmt: skip
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                await self.app(scope, receive, send)
        except BodyTooLarge:
            if not state["status"]:
                await _answer(send, 413, f"the body is larger than {limit} bytes")
        except TimeoutError as error:
            if not deadline.expired():  # not our deadline: an unexpected error like any other
                self._unexpected(scope, request_id, error)
                if not state["status"]:
                    await _answer(send, 500, internal_error_reason(request_id))
                return
            self.metrics.count("ledger_request_timeouts_total")
            log.warning("request %s %s ran past %.0f s", scope["method"], logged(scope["path"]), seconds)
            if not state["status"]:
                await _answer(
                    send, 504,
                    f"no answer within {seconds:g} s; a post may still have been recorded: retry it "
                    "with the same transaction_id or Idempotency-Key",
                )  # fmt: skip
        except Exception as error:
            self._unexpected(scope, request_id, error)
            if not state["status"]:
                await _answer(send, 500, internal_error_reason(request_id))

    @staticmethod
    def _unexpected(scope: Scope, request_id: str, error: BaseException) -> None:
        log.error(
            "unexpected error on %s %s (request %s)", scope["method"], logged(scope["path"]), request_id,
            exc_info=error,
        )  # fmt: skip


def logged(path: str) -> str:
    """A decoded path as one log line can carry it: control characters (a %0A in the URL would
    start a forged line) and backslashes escaped."""
    if path.isprintable() and "\\" not in path:
        return path
    return "".join(c if c.isprintable() and c != "\\" else c.encode("unicode_escape").decode() for c in path)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _answer(send: Send, status: int, reason: str) -> None:
    body = json.dumps(error_body(status, reason)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
