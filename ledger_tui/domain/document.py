"""Reading one JSON document a user hands the ledger: bounded size, strict UTF-8, strict JSON.

Every face (CLI ``post``, the console's load, the HTTP server) reads documents here, so the
limits hold everywhere: at most 16 MiB, UTF-8 only, no duplicate keys (``last wins`` would
hide a field), and numbers whose digits and exponent are bounded before any Decimal exists.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from .errors import ValidationError
from .money import bounded_json_number
from .text import shown, utf8_problem

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_TEXT = "16 MiB"
_BOM = b"\xef\xbb\xbf"


class DuplicateKey(ValueError):
    """A JSON object names the same key twice."""


def read_bounded(stream: BinaryIO, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """At most ``limit`` bytes of ``stream``; raises ValidationError if there is more."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError.single("", f"the document is larger than {MAX_DOCUMENT_TEXT}")
    return data


def decode_document(data: bytes | str) -> str:
    """The document's text: UTF-8 (a leading byte-order mark is dropped), at most 16 MiB."""
    if isinstance(data, str):
        if len(data) > MAX_DOCUMENT_BYTES:  # a character is at least one byte
            raise ValidationError.single("", f"the document is larger than {MAX_DOCUMENT_TEXT}")
        return data
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValidationError.single("", f"the document is larger than {MAX_DOCUMENT_TEXT}")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError.single(
            "", f"the document is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(f"duplicate key {shown(key)} in one object")
        found[key] = value
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the ledger accepts")


def loads_document(data: bytes | str) -> Any:
    """Decode and parse a JSON document: numbers as bounded Decimals, duplicate keys refused."""
    text = decode_document(data)
    try:
        return json.loads(
            text,
            parse_float=bounded_json_number,
            parse_int=bounded_json_number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError) as error:
        reason = str(error) if isinstance(error, ValueError) else "nested too deeply"
        raise ValidationError.single("", f"not valid JSON: {reason[:200]}") from None


def unencodable_text(data: object, where: str = "") -> str | None:
    """The first string (key or value) in decoded ``data`` that is not valid UTF-8 (a lone
    surrogate from a ``\\ud800`` escape), as ``path: reason``; None if every string is fine."""
    if isinstance(data, str):
        problem = utf8_problem(data)
        return None if problem is None else f"{where or 'document'}: {problem}"
    if isinstance(data, dict):
        for key, value in data.items():
            found = unencodable_text(key, where or "document") or unencodable_text(
                value, f"{where}.{key}" if where else str(key)
            )
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = unencodable_text(value, f"{where}[{index}]")
            if found:
                return found
    return None
