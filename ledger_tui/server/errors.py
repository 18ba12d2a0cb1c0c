"""Every failure as JSON ``{error, field, reason}`` with the right status; never a stack trace.

Ledger errors carry text written for operators, so it is passed on as the reason; anything
unexpected is logged with its traceback and answered with a generic 500 (middleware.py).
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from ..domain.errors import (
    AccessDenied,
    ConflictingResubmission,
    FieldProblem,
    LedgerError,
    NotFound,
    StoreUnavailable,
    TlsFailure,
    ValidationError,
)
from ..domain.holds import HoldRefused
from ..domain.limits import LimitExceeded
from .metrics import Metrics

log = logging.getLogger("ledger_tui.server")

#: The ``error`` code of each status the API answers with.
ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal",
    503: "store_unavailable",
    504: "timeout",
}
#: The ``error`` code of a set refused by an account's limit (a 409 with the figures).
LIMIT_EXCEEDED = "limit_exceeded"
#: Where the request guard leaves the request's id in the ASGI scope (a 500 names it).
REQUEST_ID = "ledger_tui.request_id"
#: Seconds a client should wait before retrying after a 503.
RETRY_AFTER = "2"


class BodyTooLarge(Exception):
    """The request body grew past the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")


class ApiError(Exception):
    """A request the API refuses: status, the field at fault (or None) and why."""

    def __init__(
        self, status: int, reason: str, field: str | None = None, problems: list[FieldProblem] | None = None
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.field = status, reason, field
        self.problems = problems or []


def internal_error_reason(request_id: str) -> str:
    """What a 500 says: which request, and where the details are (never the details)."""
    return f"internal error (request {request_id}); the server log has the details"


def error_body(status: int, reason: str, field: str | None = None, problems: list[FieldProblem] | None = None
               ) -> dict[str, object]:  # fmt: skip
    """The JSON every error answers with (``problems`` when more than one field was at fault)."""
    body: dict[str, object] = {"error": ERROR_CODES.get(status, "error"), "field": field, "reason": reason}
    if problems and len(problems) > 1:
        body["problems"] = [{"field": p.field or None, "reason": p.reason} for p in problems]
    return body


def error_response(
    status: int, reason: str, field: str | None = None, problems: list[FieldProblem] | None = None
) -> JSONResponse:
    """A JSON error response (503 says when to retry)."""
    headers = {"Retry-After": RETRY_AFTER} if status == 503 else None
    return JSONResponse(error_body(status, reason, field, problems), status_code=status, headers=headers)


def ledger_error_status(error: LedgerError) -> int:
    """The HTTP status of a ledger error."""
    if isinstance(error, ValidationError):
        return 400
    if isinstance(error, ConflictingResubmission | LimitExceeded | HoldRefused):
        return 409
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, StoreUnavailable | AccessDenied | TlsFailure):
        return 503  # the server's own way to the store failed: not the client's input
    return 400


def limit_exceeded_body(error: LimitExceeded) -> dict[str, object]:
    """The 409 of a limit: which account, what it has, the bound, and the amount asked."""
    figures = error.to_json()
    figures.pop("message")
    return {**error_body(409, str(error), "entries"), **figures}


def ledger_error_response(error: LedgerError, conflict_field: str = "transaction_id") -> JSONResponse:
    """The response for a ledger error: the first problem's field and the whole reason."""
    status = ledger_error_status(error)
    if isinstance(error, LimitExceeded):
        return JSONResponse(limit_exceeded_body(error), status_code=status)
    if isinstance(error, ValidationError) and error.problems:
        first = error.problems[0]
        return error_response(status, str(error), first.field or None, error.problems)
    field = conflict_field if isinstance(error, ConflictingResubmission) else None
    return error_response(status, str(error), field)


def refusal_response(error: ApiError | LedgerError, metrics: Metrics) -> JSONResponse:
    """The answer to a refused request (an unavailable store is counted and logged)."""
    if isinstance(error, ApiError):
        return error_response(error.status, error.reason, error.field, error.problems)
    if isinstance(error, StoreUnavailable):
        metrics.count("ledger_store_unavailable_total")
        log.warning("store unavailable: %s", error)
    return ledger_error_response(error)


def allowed_methods(request: Request, first: str) -> str:
    """Every method the document gives the path (Starlette names only the first route's, and a
    path may have one route per method, as ``/limits`` has); a literal path such as
    ``/transactions/bulk`` is not also an instance of ``/transactions/{txid}``."""
    paths = request.app.openapi().get("paths", {})
    path = request.url.path
    found = (
        [paths[path]]
        if path in paths
        else [
            operations
            for template, operations in paths.items()
            if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path)
        ]
    )
    methods = {m.strip() for m in first.split(",") if m.strip()}
    for operations in found:
        methods.update(method.upper() for method in operations if method != "parameters")
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    """Route every exception a handler can raise to a JSON answer."""

    async def on_refusal(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError | LedgerError)
        return refusal_response(error, metrics)

    async def on_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = [
            FieldProblem(".".join(str(p) for p in item["loc"][1:]) or str(item["loc"][0]), str(item["msg"]))
            for item in error.errors()
        ]
        return error_response(400, "; ".join(map(str, problems)), problems[0].field, problems)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        reason = {404: "no such path", 405: f"{request.method} is not allowed here"}.get(
            error.status_code, str(error.detail)
        )
        response = error_response(error.status_code, reason)
        if error.headers:
            response.headers.update(error.headers)
        if error.status_code == 405 and "allow" in response.headers:
            response.headers["Allow"] = allowed_methods(request, response.headers["allow"])
        return response

    async def on_unexpected(request: Request, error: Exception) -> Response:
        # Starlette answers with this and re-raises: the guard logs an unexpected error's traceback.
        if isinstance(error, BodyTooLarge):  # a streamed body past the limit, met inside a route
            response = error_response(413, str(error))
            response.headers["Connection"] = "close"
            return response
        return error_response(500, internal_error_reason(str(request.scope.get(REQUEST_ID, "-"))))

    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(ApiError, on_refusal)
    app.add_exception_handler(LedgerError, on_refusal)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
