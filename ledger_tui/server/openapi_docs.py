"""The OpenAPI document: every route's statuses declared here, parameters and bodies made exact.

Why one module: a status every route can answer (the guard's 413/500/504, and later auth's)
is added in one place, and the document lists only what the server really answers (FastAPI's
422 is dropped: the server answers 400). Routes call :func:`responses` and :func:`ok`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..domain.changes import MAX_CHANGES_PAGE
from .openapi_schemas import (
    CHANGE_CURSOR_LENGTH,
    CHANGE_CURSOR_PATTERN,
    INSTANT_PATTERN,
    KEY_PATTERN,
    UUID_PATTERN,
    Schema,
    address_text_pattern,
    components,
    ref,
)

Responses = dict[int | str, dict[str, Any]]
#: What ``atomic`` takes (case does not matter); empty means absent.
FLAG_PATTERN = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|1|0|)$"

#: What each error status means, unless a route says more.
MEANINGS = {
    400: "The request is not valid: the body, a parameter or a header (`field` names it)",
    401: "No API key, or one the server does not know",
    403: "The API key may not do this",
    404: "Not found",
    409: (
        "The id (or Idempotency-Key) is taken by another entry set, or (`limit_exceeded`) a leg would "
        "take a bounded account past its limit: nothing written"
    ),
    413: "The body is larger than the server takes",
    415: "The Content-Type is not one this route reads",
    429: "Too many requests: retry later",
    500: "An unexpected error (the server log has the details; `reason` names the request id)",
    503: "The store is unavailable: retry later (with the same id or Idempotency-Key); see Retry-After",
    504: "No answer within the server's time limit; a post may still have been recorded: retry it",
}
#: Statuses the request guard can answer on every route: body too large, unexpected error, time limit.
GUARD_STATUSES = (413, 500, 504)
#: Statuses every route but the public ones (``/health``) can answer (e.g. 401, 403, 429).
PROTECTED_STATUSES: tuple[int, ...] = (401, 403, 429)
#: The headers an error status always carries.
ERROR_HEADERS = {
    401: ("WWW-Authenticate", "Bearer"),
    429: ("Retry-After", "whole seconds to wait before the key may call again"),
    503: ("Retry-After", "seconds"),
}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One error status: its meaning and the Error body."""
    answer: dict[str, Any] = {
        "description": description or MEANINGS.get(status, "Error"),
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if status in ERROR_HEADERS:
        header, meaning = ERROR_HEADERS[status]
        answer["headers"] = {header: {"schema": {"type": "string"}, "description": meaning, "required": True}}
    return answer


def responses(*statuses: int | tuple[int, str], public: bool = False) -> Responses:
    """The error responses of a route: each status (or ``(status, description)``), the guard's
    statuses, and PROTECTED_STATUSES unless ``public``; all with the Error body."""
    found: Responses = {}
    for item in (*statuses, *GUARD_STATUSES, *(() if public else PROTECTED_STATUSES)):
        status, description = item if isinstance(item, tuple) else (item, None)
        if status not in found or description:
            found[status] = error_response(status, description)
    return found


def ok(status: int, description: str, schema: Schema, media_type: str = "application/json") -> Responses:
    """A success response with its body."""
    return {status: {"description": description, "content": {media_type: {"schema": schema}}}}


def either_body(answers: Responses, schema: Schema, *statuses: int) -> Responses:
    """``answers`` where each of ``statuses`` has either the Error body or ``schema``."""
    for status in statuses:
        answers[status]["content"]["application/json"]["schema"] = {"anyOf": [ref("Error"), schema]}
    return answers


def json_body(
    schema: Schema, *, required: bool = True, description: str = "", extra: dict[str, Schema] | None = None
) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself."""
    content = {"application/json": {"schema": schema}, **(extra or {})}
    body: dict[str, Any] = {"required": required, "content": content}
    if description:
        body["description"] = description
    return {"requestBody": body}


ENTRY_SET_BODY = json_body(
    ref("EntrySet"),
    description="One entry set (the origin's transaction.json "
    "format); any `application/*+json` type is read as JSON too",
)
REVERSAL_BODY = json_body(
    {
        "type": "object",
        "properties": {
            "description": {
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": 1024,
                "pattern": "\\S",
                "description": "the reversal's leg descriptions (not only spaces)",
            }
        },
    },
    required=False,
    description="Optional; an empty body keeps the original descriptions",
)
_NDJSON = {"type": "string", "description": "JSON Lines: one entry set per line, blank lines skipped"}
BULK_BODY = json_body(
    {"type": "array", "items": ref("EntrySet")},
    description="Entry sets as a JSON array, or JSON Lines (also application/jsonl, application/json-lines, "
    "application/jsonlines). A line that is not a valid entry set is reported in its result (the "
    "whole request is refused only with atomic=true)",
    extra={"application/x-ndjson": {"schema": _NDJSON}},
)


def _instant(what: str) -> Schema:
    return {
        "type": "string",
        "pattern": INSTANT_PATTERN,
        "description": f"{what}: RFC 3339 / ISO 8601 date or date-time (UTC unless it says), or "
        "epoch milliseconds; empty means absent",
    }


def _limit(most: int, what: str) -> Schema:
    return {
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": most}, {"type": "string", "maxLength": 0}],
        "description": f"{what}; empty means the default",
    }


def parameters(app: FastAPI, path: str) -> dict[str, tuple[Schema, bool | None]]:
    """Each parameter's exact schema, and whether it is required (None: as declared)."""
    settings, engine = app.state.settings, app.state.engine
    address = {
        "type": "string",
        "pattern": address_text_pattern(engine.currencies.codes()),
        "description": "LE/NS/NAME/CURRENCY/ACCOUNT_ID, each part as in Address",
    }
    limit = _limit(settings.max_page, "page size")
    found: dict[str, tuple[Schema, bool | None]] = {
        "Idempotency-Key": (
            {
                "type": "string",
                "pattern": KEY_PATTERN,
                "description": "the entry set's id is derived from it: a retry is recorded once",
            },
            False,
        ),
        "txid": ({"type": "string", "pattern": UUID_PATTERN, "description": "a transaction id"}, True),
        "start": (_instant("from (inclusive)"), False),
        "end": (_instant("until (exclusive); not before start"), False),
        "as_of": (_instant("what the ledger showed at this recorded time"), False),
        "cursor": (
            {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]*$",
                "description": "next_cursor of the previous page (only a cursor this server issued)",
            },
            False,
        ),
        "limit": (limit, False),
        "atomic": (
            {
                "type": "string",
                "pattern": FLAG_PATTERN,
                "description": "true: one bad line (or taken id) and nothing is written",
            },
            False,
        ),
        "name": (
            {"type": "string", "minLength": 1, "description": "a named balance the server defines"},
            path == "/balance",
        ),
        "address": (address, path == "/entries"),
    }
    if path == "/balances":
        found["address"] = (
            {
                **address,
                "description": address["description"] + "; ACCOUNT_ID may be *. "
                "Give exactly one of address and name",
            },
            False,
        )
    if path == "/changes":
        events = f"events per page (default {settings.changes_page})"
        found["limit"] = (_limit(MAX_CHANGES_PAGE, events), False)
        cursor = {
            "type": "string",
            "pattern": CHANGE_CURSOR_PATTERN,
            "maxLength": CHANGE_CURSOR_LENGTH,
            "description": "the `cursor` of the previous answer (from this ledger), or `now`: only "
            "sets committed from now on; absent: from the first set",
        }
        found["cursor"] = (cursor, False)
    return found


def _exact(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """The document FastAPI builds, made exact: no 422, parameters with the server's rules."""
    for path, operations in document.get("paths", {}).items():
        known = parameters(app, path)
        for operation in operations.values():
            if path == "/health":
                operation["security"] = []  # open to anyone (load balancers, the origin's checks)
            operation.get("responses", {}).pop("422", None)
            for parameter in operation.get("parameters", []):
                schema, required = known.get(parameter["name"], (None, None))
                if schema is not None:
                    parameter["schema"] = schema
                    parameter.pop("description", None)
                if required is not None:
                    parameter["required"] = required
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(components(app.state.engine.currencies.codes()))
    document["components"]["securitySchemes"] = {
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API key from `ledger-tui keys create` (scopes: read, post, admin); "
            "a server on a loopback address with no key ever created needs none",
        }
    }
    document["security"] = [{"apiKey": []}]
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the exact document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = _exact(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
