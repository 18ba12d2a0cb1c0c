"""Rules for text a user hands the ledger: storable UTF-8, and address parts without lookalikes.

Every string is checked before anything is written: a lone surrogate cannot be encoded by
either store (Cassandra would fail after the claim), and an address part that is not NFC or
hides control, format (bidi overrides, zero-width) or separator characters would make an
account that looks like another but is distinct.
"""

from __future__ import annotations

import re
import unicodedata

#: How much of a rejected value an error message shows (repr, so nothing invisible gets through).
SHOWN_CHARS = 60
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Unicode categories an address part may not contain: control, format, surrogate, separators.
FORBIDDEN_IN_ADDRESS = {
    "Cc": "control",
    "Cf": "format",
    "Cs": "surrogate",
    "Zs": "space separator",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}


def shown(value: object) -> str:
    """``repr`` of a user value, cut short: safe to print (escapes invisible characters) and small."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _character(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def utf8_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as UTF-8 (a lone surrogate), or None if it can."""
    found = _SURROGATE.search(value)
    if found:
        return f"contains a lone surrogate {_character(found.group())}, which is not valid UTF-8"
    return None


def address_text_problem(value: str) -> str | None:
    """Why ``value`` is not a well-formed address part (UTF-8, NFC, no invisible characters)."""
    problem = utf8_problem(value)
    if problem:
        return problem
    for char in value:
        kind = FORBIDDEN_IN_ADDRESS.get(unicodedata.category(char))
        if kind:
            return f"must not contain {kind} characters such as {_character(char)}"
    if not unicodedata.is_normalized("NFC", value):
        normal = unicodedata.normalize("NFC", value)
        return f"must be in Unicode NFC form (write {shown(normal)}, the composed form)"
    return None


def utf8_size(value: str) -> int:
    """Bytes ``value`` takes in UTF-8 (for text already checked by :func:`utf8_problem`)."""
    return len(value.encode("utf-8"))
