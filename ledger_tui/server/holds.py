"""Holds and limits over HTTP: capture, void, the holds pending, and the limits in force.

Why the hold routes hang off ``/transactions/{txid}``: a hold's id is the id its captured set is
recorded under, so a client that placed one with ``POST /transactions`` and ``"pending"`` settles
it at the same address it will read it from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from ..domain.address import parse_pattern
from ..domain.errors import ValidationError
from ..domain.holds import Hold, parse_duration
from ..domain.limits import Limit
from ..domain.parse import entry_set_from_data
from ..domain.timeutil import parse_instant
from ..engine import Engine
from ..engine.holds import HoldReceipt
from .context import engine_of
from .jsonio import media_type, read_json, require_json
from .middleware import KEY_NAME
from .openapi_docs import json_body, ok, responses
from .openapi_schemas import ref
from .params import transaction_id

router = APIRouter(tags=["holds and limits"])

HOLD_ANSWERS = {
    **ok(200, "The hold with its outcome (`repeated`: it had this outcome already)", ref("Hold")),
    **responses(
        (400, "txid is not a UUID, or the body is not a valid partial capture"),
        (404, "No such hold"),
        (409, "The hold has another outcome (or expired), or a bound would break"),
        415,
        503,
    ),
}


def hold_json(hold: Hold, now: datetime, repeated: bool | None = None) -> dict[str, object]:
    """A hold as the API answers it (its state as of the ledger's now)."""
    data = hold.to_json(now)
    if repeated is not None:
        data["repeated"] = repeated
    return data


def parse_pending(value: object) -> tuple[Any, Any]:
    """``"pending": {"expires_in": "15m"}`` or ``{"expires_at": "..."}`` (or ``{}``: the default)."""
    if not isinstance(value, Mapping) or set(value) - {"expires_in", "expires_at"}:
        raise ValidationError.single(
            "pending", "must be an object with expires_in or expires_at (or neither)"
        )
    expires_in, expires_at = value.get("expires_in"), value.get("expires_at")
    if expires_in is not None and expires_at is not None:
        raise ValidationError.single("pending", "give expires_in or expires_at, not both")
    if expires_in is not None:
        if not isinstance(expires_in, str):
            raise ValidationError.single("pending.expires_in", "must be text like 90s, 15m, 12h or 7d")
        return parse_duration(expires_in, "pending.expires_in"), None
    if expires_at is not None:
        if not isinstance(expires_at, str):
            raise ValidationError.single("pending.expires_at", "must be an ISO 8601 instant")
        try:
            return None, parse_instant(expires_at)
        except ValueError as error:
            raise ValidationError.single("pending.expires_at", str(error)) from None
    return None, None


def hold_response(engine: Engine, receipt: HoldReceipt, placed: bool = False) -> JSONResponse:
    """201 for a hold placed now, else 200."""
    status = 201 if placed and not receipt.repeated else 200
    return JSONResponse(hold_json(receipt.hold, engine.holds().now(), receipt.repeated), status_code=status)


@router.post("/transactions/{txid}/capture", responses=HOLD_ANSWERS, openapi_extra=json_body(
    ref("EntrySet"), required=False,
    description="Optional: a partial capture, at most the held amounts on the hold's accounts",
))  # fmt: skip
async def capture_hold(request: Request, txid: str) -> Response:
    """Post a hold's legs under its id (or, with a body, at most them: the rest is released)."""
    hold_id = transaction_id(txid)
    partial = None
    if await request.body() or media_type(request):
        require_json(request)
        partial = entry_set_from_data(await read_json(request), engine_of(request).currencies)
    engine = engine_of(request)
    return hold_response(engine, await engine.holds().capture(hold_id, partial))


@router.post("/transactions/{txid}/void", responses=HOLD_ANSWERS)
async def void_hold(request: Request, txid: str) -> Response:
    """Release a hold (once; refused after a capture or its expiry)."""
    engine = engine_of(request)
    return hold_response(engine, await engine.holds().void(transaction_id(txid)))


@router.get("/holds", responses={
    **ok(200, "Holds pending now, oldest first (with all=true: every hold)",
         {"type": "array", "items": ref("Hold")}),
    **responses((400, "address is not a pattern"), 503),
})  # fmt: skip
async def list_holds(
    request: Request,
    address: str | None = Query(None, description="only holds with a leg on accounts this pattern selects"),
    all: bool = Query(False, description="every hold ever placed, with its outcome"),
) -> Response:
    """The holds pending now (or every hold), oldest first."""
    pattern = None if address is None else parse_pattern(address, "address", any_level=True)
    book = engine_of(request).holds()
    found = await (book.all_holds(pattern) if all else book.pending_holds(pattern))
    return JSONResponse([hold_json(hold, book.now()) for hold in found])


def _limit_json(limit: Limit) -> dict[str, object]:
    return {
        "pattern": str(limit.pattern),
        "min": None if limit.minimum is None else str(limit.minimum),
        "max": None if limit.maximum is None else str(limit.maximum),
    }


@router.get("/limits", responses={
    **ok(200, "The limits in force, most specific first", {"type": "array", "items": ref("Limit")}),
    **responses(503),
})  # fmt: skip
async def get_limits(request: Request) -> Response:
    """The account limits in force (the most specific pattern covering an account applies)."""
    return JSONResponse([_limit_json(limit) for limit in await engine_of(request).limits().current()])


LIMIT_BODY = json_body(ref("Limit"), description="Set a limit, or with min and max null clear it")


@router.put("/limits", responses={
    **ok(200, "The limit now in force for the pattern (both bounds null: cleared)", ref("Limit")),
    **responses((400, "Not a valid limit"), (404, "Clearing a pattern that has no limit"), 415, 503),
}, openapi_extra=LIMIT_BODY)  # fmt: skip
async def put_limit(request: Request) -> Response:
    """Set a pattern's limit, or clear it; recorded with the API key's name and the time."""
    require_json(request)
    data = await read_json(request)
    if not isinstance(data, Mapping) or not isinstance(data.get("pattern"), str):
        raise ValidationError.single("pattern", "is required: LE/NS/NAME/CUR/ACCT, any part but CUR may be *")
    engine: Engine = engine_of(request)
    who = f"api key {request.scope.get(KEY_NAME, '(none: loopback)')}"
    if data.get("min") is None and data.get("max") is None:
        change = await engine.limits().clear(data["pattern"], who)
    else:
        change = await engine.limits().set(data["pattern"], data.get("min"), data.get("max"), who)
    return JSONResponse(_limit_json(change.limit))
