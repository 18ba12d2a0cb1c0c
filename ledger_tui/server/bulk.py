"""``POST /transactions/bulk``: many entry sets (a JSON array or JSON Lines), one result per line.

Every line is validated before anything is written; with ``atomic=true`` one bad line (or an id
already taken by another entry set) and nothing is written, else good lines are posted and bad
ones reported. With an ``Idempotency-Key`` a line without ``transaction_id`` gets an id from the
key and its line number, so a retried request (a timeout, a 503) records only what is missing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import JSONResponse, Response

from ..domain.claims import RecordOutcome
from ..domain.errors import ConflictingResubmission, LedgerError, NotFound, ValidationError
from ..domain.limits import LimitExceeded
from ..domain.model import EntrySet
from ..domain.parse import decode_json
from ..engine import Engine
from .context import engine_of, metrics_of, settings_of
from .errors import ApiError, error_body, ledger_error_status, limit_exceeded_body
from .idempotency import HEADER, checked_key, entry_set_with_key
from .jsonio import JSON_TYPES, LINES_TYPES, require_json
from .metrics import Metrics
from .openapi_docs import BULK_BODY, either_body, ok, responses
from .openapi_schemas import ref
from .origin import conflict
from .settings import ServerSettings

router = APIRouter(tags=["transactions"])


@dataclass(slots=True)
class Line:
    """One entry set of the request and what became of it."""

    number: int
    entry_set: EntrySet | None = None
    #: Where the id came from ('' for a fresh random id, which nothing else can hold).
    conflict_field: str = ""
    status: str = "pending"
    error: dict[str, object] | None = None
    outcome: RecordOutcome | None = None

    def fail(self, status: str, error: LedgerError | ApiError) -> None:
        """Mark the line refused with the JSON error it answers."""
        self.status = status
        if isinstance(error, ApiError):
            self.error = error_body(error.status, error.reason, error.field)
        elif isinstance(error, LimitExceeded):
            self.error = limit_exceeded_body(error)
        elif isinstance(error, ValidationError) and error.problems:
            first = error.problems[0]
            self.error = error_body(400, str(error), first.field or None)
        else:
            self.error = error_body(ledger_error_status(error), str(error))

    def to_json(self) -> dict[str, object]:
        """The line's result."""
        data: dict[str, object] = {"line": self.number, "status": self.status}
        if self.entry_set is not None:
            data["transaction_id"] = str(self.entry_set.transaction_id)
        if self.outcome is not None and not self.outcome.rejected:
            data["recorded_at"] = self.outcome.transaction.recorded_at.isoformat(timespec="milliseconds")
        if self.error is not None:
            data["error"] = self.error
        return data


def _documents(body: bytes, kind: str) -> list[tuple[int, Any]]:
    """(line number, decoded document or the ValidationError) for every entry set in the body."""
    if kind in LINES_TYPES:
        found: list[tuple[int, Any]] = []
        for number, text in enumerate(body.split(b"\n"), start=1):
            if text.strip():
                try:
                    found.append((number, decode_json(text)))
                except ValidationError as error:
                    found.append((number, error))
        return found
    data = decode_json(body)
    if not isinstance(data, list):
        raise ValidationError.single("", "the body must be a JSON array of entry sets (or JSON Lines)")
    return list(enumerate(data, start=1))


def _flag(text: str | None) -> bool:
    if text is None or text.lower() in ("", "false", "0", "no"):
        return False
    if text.lower() in ("true", "1", "yes"):
        return True
    raise ApiError(400, f"{text!r} is not true or false", "atomic")


def _repeats_with_other_bodies(lines: list[Line]) -> None:
    """Atomic mode: a line reusing an earlier line's id with another payload is a conflict."""
    first: dict[object, Line] = {}
    for line in lines:
        if line.entry_set is None:
            continue
        earlier = first.setdefault(line.entry_set.transaction_id, line)
        other = earlier.entry_set
        if earlier is not line and other is not None and other.payload_hash != line.entry_set.payload_hash:
            reason = f"reuses the id of line {earlier.number} with another entry set"
            line.fail("conflict", ApiError(409, reason, line.conflict_field or "transaction_id"))


async def _taken_by_other(engine: Engine, line: Line) -> None:
    """Atomic mode: refuse a line whose id is already recorded with another payload."""
    assert line.entry_set is not None
    try:
        earlier = await engine.transaction(line.entry_set.transaction_id)
    except NotFound:
        return
    if earlier.payload_hash != line.entry_set.payload_hash:
        line.fail("conflict", conflict(ConflictingResubmission(earlier.transaction_id), line.conflict_field))


async def _record_lines(
    engine: Engine, metrics: Metrics, lines: list[Line], settings: ServerSettings
) -> None:
    """Record every valid line through the engine's bulk path (chunks of sets claimed together,
    a few chunks at once), recording each outcome on its line. A chunk the store fails on is
    reported per line as failed; a retry of the request completes it (same ids)."""
    valid = [line for line in lines if line.entry_set is not None]
    chunks = [valid[i : i + settings.bulk_chunk] for i in range(0, len(valid), settings.bulk_chunk)]
    slots = asyncio.Semaphore(settings.bulk_chunks_in_flight)

    async def record(chunk: list[Line]) -> None:
        async with slots:
            try:
                sets = [line.entry_set for line in chunk if line.entry_set is not None]
                outcomes = await engine.record_batch(sets, complete_duplicates=True)
            except LedgerError as error:
                for line in chunk:
                    line.fail("failed", error)
                return
        for line, outcome in zip(chunk, outcomes, strict=True):
            line.outcome = outcome
            if outcome.refused is not None:
                line.fail("rejected", outcome.refused)
            elif outcome.conflicting:
                line.fail("conflict", conflict(ConflictingResubmission(outcome.transaction.transaction_id),
                                               line.conflict_field))  # fmt: skip
            else:
                line.status = "duplicate" if outcome.duplicate else "recorded"
            metrics.count("ledger_entry_sets_total", outcome=line.status)
            if line.status == "recorded":
                metrics.count("ledger_entries_recorded_total", len(outcome.transaction.legs))

    await asyncio.gather(*(record(chunk) for chunk in chunks))


def _answer(lines: list[Line], atomic: bool, status: int) -> JSONResponse:
    names = ("recorded", "duplicate", "rejected", "conflict", "failed", "not_written")
    counts = {name: sum(1 for line in lines if line.status == name) for name in names}
    recorded = sum(
        len(line.outcome.transaction.legs) for line in lines if line.outcome and line.status == "recorded"
    )
    body = {"atomic": atomic, "sets": len(lines), **counts, "entries_recorded": recorded,
            "results": [line.to_json() for line in lines]}  # fmt: skip
    return JSONResponse(body, status_code=status)


@router.post(
    "/transactions/bulk",
    responses=either_body(
        {
            **ok(200, "Every line recorded (or already recorded)", ref("BulkResult")),
            **ok(207, "Some lines refused or failed (atomic=false): see results", ref("BulkResult")),
            **responses(
                (
                    400,
                    "Not a JSON array or JSON Lines, a bad parameter or header; or atomic=true and a line is "
                    "invalid: nothing written (the body is then a BulkResult, not an Error)",
                ),
                (
                    409,
                    "atomic=true and a line's id is taken by another entry set: nothing written (a "
                    "BulkResult)",
                ),
                (413, "Too many entry sets, or too large a body"),
                415,
                (
                    503,
                    "The store failed: retry the same request (with its Idempotency-Key); with atomic=true "
                    "a BulkResult",
                ),
            ),
        },
        ref("BulkResult"),
        400,
        409,
        503,
    ),
    openapi_extra=BULK_BODY,
)
async def post_bulk(
    request: Request,
    atomic: str | None = Query(None, description="true: one bad line and nothing is written"),
    idempotency_key: str | None = Header(None, alias=HEADER),
) -> Response:
    """Post many entry sets (a JSON array, or JSON Lines with Content-Type application/x-ndjson)."""
    kind = require_json(request, JSON_TYPES + LINES_TYPES)
    all_or_nothing, key = _flag(atomic), checked_key(idempotency_key)
    engine, metrics, settings = engine_of(request), metrics_of(request), settings_of(request)
    documents = _documents(await request.body(), kind)
    if len(documents) > settings.max_bulk_sets:
        raise ApiError(413, f"more than {settings.max_bulk_sets} entry sets; split the request", "")
    lines: list[Line] = []
    for number, document in documents:
        line = Line(number)
        try:
            if isinstance(document, LedgerError):
                raise document
            line.entry_set, line.conflict_field = entry_set_with_key(document, key, engine.currencies, number)
        except LedgerError as error:
            line.fail("rejected", error)
            metrics.count("ledger_entry_sets_total", outcome="rejected")
        lines.append(line)
    if all_or_nothing:
        if not any(line.status != "pending" for line in lines):
            _repeats_with_other_bodies(lines)
            slots = asyncio.Semaphore(settings.bulk_concurrency)

            async def check(line: Line) -> None:
                async with slots:
                    await _taken_by_other(engine, line)

            await asyncio.gather(*(check(line) for line in lines if line.conflict_field))
        if any(line.status != "pending" for line in lines):
            for line in lines:
                if line.status == "pending":
                    line.status = "not_written"
            status = 409 if any(line.status == "conflict" for line in lines) else 400
            return _answer(lines, all_or_nothing, status)
    await _record_lines(engine, metrics, lines, settings)
    if any(line.status == "failed" for line in lines):
        return _answer(lines, all_or_nothing, 503 if all_or_nothing else 207)
    ok = all(line.status in ("recorded", "duplicate") for line in lines)
    return _answer(lines, all_or_nothing, 200 if ok else 207)
