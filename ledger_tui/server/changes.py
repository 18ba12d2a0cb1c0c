"""``GET /changes``: the ledger's change feed for pollers, one page of settled events per call.

Why over HTTP: a system that only polls (no Kafka, no relay beside it) sees every committed set
once, in commit order, with the read scope alone, resuming from the cursor it last got.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from ..domain.changes import MAX_CHANGES_PAGE, FeedLag
from ..engine.changes import NOW
from .context import engine_of, settings_of
from .openapi_docs import ok, responses
from .openapi_schemas import ref
from .params import limit

router = APIRouter(tags=["reads"])


def lag_json(lag: FeedLag) -> dict[str, object]:
    """How far the page's cursor is behind the ledger, as JSON."""
    oldest = lag.oldest_waiting
    return {
        "events": lag.events,
        "seconds": lag.seconds,
        "waiting": lag.waiting,
        "oldest_waiting": None if oldest is None else oldest.isoformat(timespec="milliseconds"),
    }


@router.get("/changes", responses={
    **ok(200, "Settled events after the cursor, in commit order", ref("ChangesPage")),
    **responses((400, "A bad limit, or a cursor this ledger did not issue"), 503),
})  # fmt: skip
async def changes(
    request: Request,
    cursor: str | None = Query(None, description="the cursor of the previous page, or now"),
    limit_: str | None = Query(None, alias="limit", description="events per page"),
) -> Response:
    """Events after ``cursor`` (none: from the first set; ``now``: only sets committed from now
    on), each once, in commit order; call again with the answer's ``cursor`` (at once while
    ``more`` is true)."""
    size = limit(limit_, settings_of(request).changes_page, MAX_CHANGES_PAGE)
    feed = engine_of(request).changes()
    start = await feed.start(NOW) if cursor == NOW else cursor or None
    page = await feed.page(start, size)
    return JSONResponse(
        {
            "events": [change.to_json() for change in page.changes],
            "cursor": page.cursor,
            "more": page.more,
            "lag": lag_json(page.lag),
        }
    )
