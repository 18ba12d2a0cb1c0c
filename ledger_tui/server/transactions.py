"""One transaction by id, and its reversal (the only correction an immutable ledger allows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from ..domain.errors import ValidationError
from .context import engine_of, metrics_of
from .jsonio import media_type, read_json, require_json
from .openapi_docs import REVERSAL_BODY, ok, responses
from .openapi_schemas import ref
from .origin import count_receipt, receipt_response
from .params import transaction_id

router = APIRouter(tags=["transactions"])
MAX_DESCRIPTION = 1024
BULK = "bulk"


def _path_id(txid: str) -> uuid.UUID:
    """The transaction id of the path; ``/transactions/bulk`` is the bulk route's alone, so any
    other method there is a 405 allowing POST (not a 400 for an id "bulk")."""
    if txid == BULK:
        raise StarletteHTTPException(405, headers={"Allow": "POST"})
    return transaction_id(txid)


@router.get("/transactions/{txid}", responses={
    **ok(200, "The transaction", ref("Transaction")),
    **responses((400, "txid is not a UUID"), (404, "No such transaction"), 503),
})  # fmt: skip
async def get_transaction(request: Request, txid: str) -> Response:
    """One recorded transaction with every leg as an entry (amounts as strings)."""
    transaction = await engine_of(request).transaction(_path_id(txid))
    return JSONResponse(
        {
            "transaction_id": str(transaction.transaction_id),
            "recorded_at": transaction.recorded_at.isoformat(timespec="milliseconds"),
            "entries": [entry.to_json() for entry in transaction.entries()],
        }
    )


async def _description(request: Request) -> str | None:
    """The optional ``{"description": ...}`` body of a reversal."""
    if not await request.body() and not media_type(request):
        return None
    require_json(request)
    data = await read_json(request)
    if not isinstance(data, Mapping):
        raise ValidationError.single("", "the body must be a JSON object (or empty)")
    text = data.get("description")
    if text is None:
        return None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_DESCRIPTION:
        raise ValidationError.single("description", f"must be text of 1 to {MAX_DESCRIPTION} characters")
    return text


@router.post(
    "/transactions/{txid}/reversal",
    status_code=201,
    responses={
        **ok(201, "Reversed: the reversal's receipt (Location names it)", ref("Receipt")),
        **ok(200, "Already reversed: the original reversal's receipt", ref("Receipt")),
        **responses((400, "txid is not a UUID, or the body is not valid"), (404, "No such transaction"),
                    (409, "The reversal's id is taken by another entry set"), 415, 503),
    },
    openapi_extra=REVERSAL_BODY,
)  # fmt: skip
async def reverse_transaction(request: Request, txid: str) -> Response:
    """Post the mirror image of a transaction; reversing twice answers the first reversal (200).

    Optional body ``{"description": "..."}`` for the reversal's legs.
    """
    original = transaction_id(txid)
    receipt = await engine_of(request).reverse(original, await _description(request))
    count_receipt(metrics_of(request), receipt)
    response = receipt_response(receipt)
    response.headers["Location"] = f"/transactions/{receipt.transaction_id}"
    return response
