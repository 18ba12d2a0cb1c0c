"""Reads: accounts and entries page by page, balances per currency with ``as_of``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from ..domain.holds import held_json, with_held_currencies
from ..domain.model import TREE_DEPTH, Address, Entry
from ..domain.timeutil import TimeRange, from_epoch_ms, to_epoch_ms, truncate_to_ms
from ..engine import Engine
from .context import engine_of, settings_of
from .cursors import EntriesCursor, decode_account, encode_account, query_binding
from .errors import ApiError
from .openapi_docs import ok, responses
from .openapi_schemas import ref
from .params import address, instant, limit, pattern, time_range

router = APIRouter(tags=["reads"])
DEFAULT_PAGE = 100


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


async def _accounts_after(engine: Engine, after: Address | None) -> AsyncIterator[Address]:
    """Every account in order, starting after ``after`` (walks only the tree path it needs)."""
    path = after.as_tuple() if after is not None else None

    async def walk(prefix: tuple[str, ...], on_path: bool) -> AsyncIterator[Address]:
        depth = len(prefix)
        children = sorted(await engine.all_children(prefix))
        if on_path and path is not None:
            mark = path[depth]
            children = [c for c in children if (c > mark if depth == TREE_DEPTH - 1 else c >= mark)]
        for child in children:
            if depth == TREE_DEPTH - 1:
                yield Address(*prefix, child)  # type: ignore[call-arg]
            else:
                async for found in walk(
                    (*prefix, child), on_path and path is not None and child == path[depth]
                ):
                    yield found

    async for account in walk((), True):
        yield account


@router.get("/accounts", responses={
    **ok(200, "One page of accounts", ref("AccountsPage")),
    **responses((400, "A bad limit, or a cursor this server did not issue"), 503),
})  # fmt: skip
async def accounts(
    request: Request,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit_: str | None = Query(
        None, alias="limit", description=f"accounts per page (default {DEFAULT_PAGE})"
    ),
) -> Response:
    """Every account in address order, one page at a time (``next_cursor`` is null on the last)."""
    size = limit(limit_, DEFAULT_PAGE, settings_of(request).max_page)
    found: list[Address] = []
    async for account in _accounts_after(engine_of(request), decode_account(cursor) if cursor else None):
        found.append(account)
        if len(found) > size:
            break
    page = found[:size]
    more = len(found) > size
    return JSONResponse(
        {
            "accounts": [{**a.to_json(), "address": str(a)} for a in page],
            "next_cursor": encode_account(page[-1]) if more else None,
        }
    )


async def _entries_page(
    engine: Engine,
    account: Address,
    span: TimeRange,
    as_of: datetime | None,
    after: EntriesCursor | None,
    size: int,
) -> list[Entry]:
    """Up to ``size + 1`` entries from where ``after`` stopped (one more shows another page exists)."""
    skip, read = 0, span
    if after is not None:
        skip, read = after.seen_at_millis, TimeRange(from_epoch_ms(after.millis), span.end)
    found: list[Entry] = []
    token = None
    while True:
        page = await engine.entries(account, read, min(size + 1 + skip, 1000), token, as_of)
        for entry in page.items:
            if skip and after is not None and to_epoch_ms(entry.effective_at) == after.millis:
                skip -= 1
                continue
            found.append(entry)
        if len(found) > size or page.next_token is None:
            return found
        token = page.next_token


@router.get("/entries", responses={
    **ok(200, "One page of entries", ref("EntriesPage")),
    **responses((400, "No or a bad address, a bad time, limit or cursor"), 503),
})  # fmt: skip
async def entries(
    request: Request,
    address_: str | None = Query(None, alias="address", description="LE/NS/NAME/CUR/ACCT"),
    start: str | None = Query(None, description="effective time from (inclusive)"),
    end: str | None = Query(None, description="effective time until (exclusive)"),
    as_of: str | None = Query(
        None, description="only entries recorded by then (default: the first page's time)"
    ),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit_: str | None = Query(None, alias="limit", description=f"entries per page (default {DEFAULT_PAGE})"),
) -> Response:
    """Entries of one account in ledger order, paged; every page shows the first page's snapshot."""
    account, span = address(address_), time_range(start, end)
    size = limit(limit_, DEFAULT_PAGE, settings_of(request).max_page)
    binding = query_binding(account, span)
    after = EntriesCursor.decode(cursor, binding) if cursor else None
    wanted = instant("as_of", as_of)
    pinned: datetime | None
    if after is not None:
        pinned = from_epoch_ms(after.as_of_ms)
        if wanted is not None and wanted != pinned:
            raise ApiError(400, "differs from the as_of of the cursor's first page", "as_of")
    else:
        pinned = wanted
    found = await _entries_page(engine_of(request), account, span, pinned, after, size)
    page, next_cursor = found[:size], None
    if pinned is None:  # later pages show what this one saw (even if this server's clock lags)
        pinned = max([truncate_to_ms(datetime.now(UTC)), *(e.recorded_at for e in page)])
    if len(found) > size:
        last = to_epoch_ms(page[-1].effective_at)
        seen = sum(1 for e in page if to_epoch_ms(e.effective_at) == last)
        if after is not None and after.millis == last:
            seen += after.seen_at_millis
        next_cursor = EntriesCursor(last, seen, to_epoch_ms(pinned), binding).encode()
    return JSONResponse(
        {
            "address": str(account),
            "as_of": _iso(pinned),
            "entries": [{**e.to_json(), "recorded_at": _iso(e.recorded_at)} for e in page],
            "next_cursor": next_cursor,
        }
    )


@router.get("/balances", responses={
    **ok(200, "The balances, one row per currency", ref("Balances")),
    **responses((400, "Not exactly one of address and name, a bad address or time"),
                (404, "No such named balance"), 503),
})  # fmt: skip
async def balances(
    request: Request,
    address_: str | None = Query(None, alias="address", description="LE/NS/NAME/CUR/ACCT (ACCT may be *)"),
    name: str | None = Query(None, description="a named balance"),
    start: str | None = Query(None, description="effective time from (inclusive)"),
    end: str | None = Query(None, description="effective time until (exclusive)"),
    as_of: str | None = Query(None, description="what the ledger showed at this recorded time"),
) -> Response:
    """Per currency: opening (before start), debits, credits and closing, as exact strings."""
    if (address_ is None) == (name is None):
        raise ApiError(400, "give exactly one of address and name", "address" if address_ else "name")
    span, when = time_range(start, end), instant("as_of", as_of)
    target = pattern(address_) if address_ is not None else str(name)
    engine = engine_of(request)
    rows = await engine.balance(target, span, when)
    held = {} if isinstance(target, str) else await engine.holds().pending_by_currency(target, when)
    rows = with_held_currencies(rows, held)
    return JSONResponse(
        {
            "address": address_,
            "name": name,
            "start": _iso(span.start),
            "end": _iso(span.end),
            "as_of": _iso(when),
            "balances": [{**row.to_json(), **held_json(row, held)} for row in rows],
        }
    )
