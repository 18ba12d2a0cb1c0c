"""The origin service's three endpoints, with its paths, status codes and balance JSON keys.

``POST /transactions`` (and ``/transaction``, which its README documents), ``GET /balance`` and
``GET /health``, so its clients and README commands work unchanged. Where the origin was loose
we are strict: bad dates are rejected, amounts are exact, and health asks the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import JSONResponse, Response

from ..domain.errors import ConflictingResubmission, LedgerError, NotConfirmed, NotFound
from ..domain.model import Receipt
from ..domain.parse import decode_json
from ..engine import Engine
from .context import engine_of, metrics_of, settings_of
from .errors import ApiError
from .holds import hold_response, parse_pending
from .idempotency import HEADER, checked_key, entry_set_with_key
from .jsonio import ExactJSONResponse, accepted_media, media_type_of
from .metrics import Metrics
from .openapi_docs import ENTRY_SET_BODY, ok, responses
from .openapi_schemas import ref
from .params import time_range

router = APIRouter()

RECEIPT_RESPONSES = {
    **ok(
        201,
        "Recorded: the JSON receipt (with `pending`: the hold placed)",
        {"anyOf": [ref("Receipt"), ref("Hold")]},
    ),
    **ok(
        200,
        "Already recorded (a retry with the same id or key): the original receipt (or hold)",
        {"anyOf": [ref("Receipt"), ref("Hold")]},
    ),
    **responses(
        (400, "Not JSON, or not a valid, balanced entry set (`problems` lists every fault)"),
        409,
        415,
        (503, "The store is unavailable; retry with the same id or key"),
    ),
}


def count_receipt(metrics: Metrics, receipt: Receipt) -> None:
    """Count one posted entry set by outcome."""
    metrics.count("ledger_entry_sets_total", outcome=receipt.status.value)
    if receipt.status.value == "recorded":
        metrics.count("ledger_entries_recorded_total", len(receipt.entries))


def receipt_response(receipt: Receipt) -> JSONResponse:
    """201 with the receipt when recorded now, 200 with the original when it was a retry."""
    return JSONResponse(receipt.to_json(), status_code=201 if receipt.status.value == "recorded" else 200)


def conflict(error: ConflictingResubmission, field: str) -> ApiError:
    """The 409 for a reused id or key, naming which one."""
    if field == HEADER:
        reason = (
            f"this {HEADER} was already used for a different entry set (transaction "
            f"{error.transaction_id}); the original stands"
        )
    else:
        reason = str(error)
    return ApiError(409, reason, field or "transaction_id")


async def post_document(
    engine: Engine, metrics: Metrics, body: bytes, content_type: str, idempotency: str | None
) -> JSONResponse:
    """Post one entry set in the origin's format and answer with its receipt (the route and
    the ASGI fast path both answer through here, so they cannot differ)."""
    accepted_media(media_type_of(content_type))
    key = checked_key(idempotency)
    try:
        data = decode_json(body)
        entry_set, field = entry_set_with_key(data, key, engine.currencies)
        pending = data.get("pending") if isinstance(data, Mapping) else None
        expiry = None if pending is None else parse_pending(pending)
    except LedgerError:
        metrics.count("ledger_entry_sets_total", outcome="rejected")
        raise
    if expiry is not None:
        try:
            placed = await engine.holds().place(entry_set, *expiry)
        except ConflictingResubmission as error:
            raise conflict(error, field) from None
        metrics.count("ledger_holds_total", outcome="repeated" if placed.repeated else "placed")
        return hold_response(engine, placed, placed=True)
    try:
        receipt = await engine.post(entry_set)
    except ConflictingResubmission as error:
        metrics.count("ledger_entry_sets_total", outcome="conflict")
        raise conflict(error, field) from None
    except NotConfirmed as error:  # the claim may stand: the client must retry with this id
        if field:
            raise
        txid = entry_set.transaction_id
        reason = f'{error}; resend the body with "transaction_id": "{txid}"'
        raise ApiError(503, reason, "transaction_id") from None
    count_receipt(metrics, receipt)
    return receipt_response(receipt)


async def _post_entry_set(request: Request, idempotency: str | None) -> Response:
    content_type = request.headers.get("content-type", "")
    return await post_document(
        engine_of(request), metrics_of(request), await request.body(), content_type, idempotency
    )


@router.post("/transactions", status_code=201, responses=RECEIPT_RESPONSES, openapi_extra=ENTRY_SET_BODY,
             tags=["origin"])  # fmt: skip
async def post_transactions(
    request: Request, idempotency_key: str | None = Header(None, alias=HEADER)
) -> Response:
    """Record a balanced entry set once (the origin's ``transaction.json`` format)."""
    return await _post_entry_set(request, idempotency_key)


@router.post("/transaction", status_code=201, responses=RECEIPT_RESPONSES, openapi_extra=ENTRY_SET_BODY,
             tags=["origin"])  # fmt: skip
async def post_transaction(
    request: Request, idempotency_key: str | None = Header(None, alias=HEADER)
) -> Response:
    """The same as ``POST /transactions`` (the path the origin's README documents)."""
    return await _post_entry_set(request, idempotency_key)


@router.get("/balance", tags=["origin"], responses={
    **ok(200, "The net movement", ref("OriginBalance")),
    **responses((400, "No name, an unknown name, a name over several currencies, or a bad date"), 503),
})  # fmt: skip
async def balance(
    request: Request,
    name: str | None = Query(None, description="a named balance"),
    start: str | None = Query(None, description="RFC 3339 start, inclusive"),
    end: str | None = Query(None, description="RFC 3339 end, exclusive"),
) -> Response:
    """The origin's balance: the net movement (credits - debits) of a named balance in [start, end).

    ``amount`` is an exact JSON number. A name spanning several currencies is refused here;
    ``GET /balances`` answers it per currency.
    """
    if not name:
        raise ApiError(400, "is required", "name")
    engine = engine_of(request)
    try:
        named = engine.named_balance(name)
    except NotFound:
        known = ", ".join(sorted(engine.named_balances)) or "none defined"
        raise ApiError(400, f"unknown balance name {name!r} (known: {known})", "name") from None
    rows = await engine.balance(name, time_range(start, end))
    currencies = sorted({row.currency for row in rows} | {p.currency for p in named.patterns})
    if len(currencies) != 1:
        raise ApiError(
            400, f"spans several currencies ({', '.join(currencies)}); GET /balances answers per currency",
            "name",
        )  # fmt: skip
    amount = rows[0].closing - rows[0].opening if rows else Decimal(0)
    return ExactJSONResponse(
        {"amount": amount, "balance_name": name, "currency": currencies[0], "end": end or "",
         "start": start or ""}
    )  # fmt: skip


@router.get("/health", tags=["origin"], responses={
    **ok(200, "The store answers", ref("Health")),
    **ok(503, "The store does not answer within the health timeout (see Retry-After)", ref("Health")),
    **responses(public=True),
})  # fmt: skip
async def health(request: Request) -> Response:
    """``{"status": "ok"}`` when the store answers a read within the health timeout, else 503."""
    engine, settings = engine_of(request), settings_of(request)
    try:
        async with asyncio.timeout(settings.health_timeout):
            await engine.children((), 1)
    except (LedgerError, TimeoutError) as error:
        reason = str(error) or f"no answer within {settings.health_timeout:g} s"
        return JSONResponse(
            {"status": "unavailable", "store": engine.info.kind, "reason": reason},
            status_code=503,
            headers={"Retry-After": "2"},
        )
    return JSONResponse({"status": "ok", "store": engine.info.kind})
