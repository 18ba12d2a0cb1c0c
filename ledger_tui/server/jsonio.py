"""JSON in and out without floats: bodies decoded to Decimal, Decimals written as exact numbers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import Request
from starlette.responses import Response

from ..domain.parse import decode_json
from .errors import ApiError

JSON_TYPES = ("application/json",)
LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/jsonlines")


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower-cased ('' when absent)."""
    return media_type_of(request.headers.get("content-type", ""))


def media_type_of(content_type: str) -> str:
    """A Content-Type header's media type without parameters, lower-cased."""
    return content_type.split(";", 1)[0].strip().lower()


def require_json(request: Request, accepted: tuple[str, ...] = JSON_TYPES) -> str:
    """The media type if it is one of ``accepted`` (or ``*/*+json``), else 415."""
    return accepted_media(media_type(request), accepted)


def accepted_media(kind: str, accepted: tuple[str, ...] = JSON_TYPES) -> str:
    """``kind`` if it is one of ``accepted`` (or ``*/*+json``), else 415."""
    if kind in accepted or (kind.endswith("+json") and "application/json" in accepted):
        return kind
    shown = kind or "no Content-Type"
    raise ApiError(415, f"{shown} is not accepted; send {' or '.join(accepted)}", "Content-Type")


async def read_json(request: Request, field: str = "") -> Any:
    """The body decoded exactly (400 with the reason when it is not JSON)."""
    return decode_json(await request.body(), field)


def _number(amount: Decimal) -> str:
    """A Decimal as a JSON number literal, exactly (no exponent, no float round trip)."""
    if not amount.is_finite():
        raise ValueError("only finite amounts are written as JSON numbers")
    text = format(amount, "f")
    return "0" if text == "-0" else text


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(_number(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            out.append(("," if index else "") + json.dumps(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value))


def dumps_exact(data: Any) -> str:
    """JSON text in which every Decimal is a number with its exact digits."""
    out: list[str] = []
    _write(data, out)
    return "".join(out)


class ExactJSONResponse(Response):
    """A JSON response whose Decimals are exact numbers (the origin's ``amount``)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps_exact(content).encode()
