"""JSON Schemas of what the API takes and answers, written from the rules the server enforces.

Why: a client generated from ``/openapi.json`` (and Schemathesis, which tests the server against
it) must see the real rules: part lengths and characters, the currency set, the leg bounds, id
and key shapes. Rules no schema can state (debits equal credits per currency, a currency's
decimal places, NFC text) are in the descriptions; tests/server/schemathesis.toml says so too.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from ..domain.address import MAX_FIELD_LENGTH
from ..domain.changes import ChangeType
from ..domain.legs import MAX_DESCRIPTION_LENGTH
from ..domain.model import ADDRESS_FIELDS
from ..domain.money import MAX_INTEGER_DIGITS
from ..domain.parse import MAX_LEGS
from ..domain.text import FORBIDDEN_IN_ADDRESS
from ..domain.timeutil import LATEST_ENTRY_MS
from .errors import ERROR_CODES, LIMIT_EXCEEDED
from .idempotency import MAX_KEY_LENGTH

Schema = dict[str, Any]
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#: The id of a new set or hold: not of the variant reserved for future definition (the ledger's own).
SUBMITTED_UUID_PATTERN = (
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-dA-D][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
KEY_PATTERN = f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
#: Leg descriptions: no control characters but tab and newline.
DESCRIPTION_PATTERN = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"
#: What parse_instant reads (ISO 8601 or epoch ms) begins with a digit or a minus; '' is 'absent'.
INSTANT_PATTERN = "^(\\s*-?[0-9][\\s\\S]*)?$"
#: A change-feed cursor either store issues: the embedded store's ``s1-SEQUENCE``, or Cassandra's
#: ``c1-TICKS-BATCH`` and the log rows it waits for (at most 64).
ISSUED_CURSOR = "s1-[0-9]{1,19}|c1-[0-9a-f]{1,16}-[0-9a-f]{32}(-w[0-9a-f]{1,16}\\.[0-7]\\.[0-9a-f]{32}){0,64}"
#: What ``GET /changes`` takes as its cursor: '' is absent (from the first set), ``now`` the newest.
CHANGE_CURSOR_PATTERN = f"^(now|{ISSUED_CURSOR})?$"
CHANGE_CURSOR_LENGTH = len("c1--") + 16 + 32 + 64 * (len("-w..") + 16 + 1 + 32)
PART_RULES = (
    f"1 to {MAX_FIELD_LENGTH} characters, no '/', no control, format or separator characters "
    "(Unicode categories Cc, Cf, Zs, Zl, Zp), in Unicode NFC form"
)


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


@functools.lru_cache(maxsize=1)
def part_characters() -> str:
    """A regex character class of what an address part may hold: not '/', not a character of a
    forbidden Unicode category (the server's own Unicode tables; the BMP only, so the pattern
    reads the same in Python, ECMA-262 and Rust; surrogates are left to the server)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0xD800):
        if code == 0x2F or unicodedata.category(chr(code)) in FORBIDDEN_IN_ADDRESS:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    for code in range(0xE000, 0x10000):
        if unicodedata.category(chr(code)) in FORBIDDEN_IN_ADDRESS:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    shown = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return f"[^{shown}]"


def part_pattern() -> str:
    """One address part, whole."""
    return f"^{part_characters()}{{1,{MAX_FIELD_LENGTH}}}$"


def address_text_pattern(currencies: list[str]) -> str:
    """``LE/NS/NAME/CUR/ACCT`` as one string (the query parameters' form)."""
    part = f"{part_characters()}{{1,{MAX_FIELD_LENGTH}}}"
    return f"^{part}/{part}/{part}/({'|'.join(currencies)})/{part}$"


def components(currencies: list[str]) -> dict[str, Schema]:
    """Every shared schema; ``currencies`` are the codes this server's registry accepts."""
    text_part = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_FIELD_LENGTH,
        "pattern": part_pattern(),
        "description": PART_RULES,
    }
    address = {
        "type": "object",
        "required": list(ADDRESS_FIELDS),
        "properties": {
            **{name: text_part for name in ADDRESS_FIELDS},
            "currency": {"type": "string", "enum": currencies, "description": "ISO 4217 (and configured)"},
        },
    }
    side = {"type": "string", "enum": ["debit", "credit"]}
    leg = {
        "type": "object",
        "required": ["address", "amount"],
        "anyOf": [{"required": ["type"]}, {"required": ["side"], "properties": {"side": side}}],
        "properties": {
            "address": ref("Address"),
            "amount": {
                "description": "greater than 0, with at most the currency's decimal places (ISO 4217: "
                f"0 for JPY, 2 for GBP, 3 for KWD); fewer than {MAX_INTEGER_DIGITS} integer digits, "
                "at most 64 characters; exact, never rounded",
                "anyOf": [
                    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10**MAX_INTEGER_DIGITS},
                    {"type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]{1,4})?\\s*$"},
                ],
            },
            "type": side,
            "side": {"description": "the older name of `type`, read only when `type` is absent"},
            "description": {
                "type": "string",
                "maxLength": MAX_DESCRIPTION_LENGTH,
                "pattern": DESCRIPTION_PATTERN,
            },
            "timestamp": {
                "description": "effective time: epoch ms or an ISO 8601 string, from 1970-01-01 to "
                "9999-11-30; when recorded if absent or null",
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": LATEST_ENTRY_MS},
                    {"type": "string"},
                    {"type": "null"},
                ],
            },
        },
    }
    entry_set = {
        "type": "object",
        "description": "A balanced entry set: per currency, debits equal credits; at most 128 KiB of "
        "address and description text",
        "required": ["entries"],
        "properties": {
            "transaction_id": {
                "type": ["string", "null"],
                "pattern": SUBMITTED_UUID_PATTERN,
                "description": "when absent: from Idempotency-Key, else a random one",
            },
            "entries": {"type": "array", "minItems": 2, "maxItems": MAX_LEGS, "items": ref("Leg")},
            "pending": {
                "type": "object",
                "description": "hold the set instead of posting it (capture, void or expiry decide it); "
                "expires_in (e.g. 90s, 15m, 12h, 7d) or expires_at (ISO 8601), default 7 days",
                "additionalProperties": False,
                "properties": {
                    "expires_in": {"type": "string", "pattern": "^\\s*[0-9]{1,7}(s|m|h|d)\\s*$"},
                    "expires_at": {"type": "string"},
                },
            },
        },
    }
    problem = {
        "type": "object",
        "required": ["field", "reason"],
        "properties": {"field": {"type": ["string", "null"]}, "reason": {"type": "string"}},
    }
    error = {
        "type": "object",
        "required": ["error", "field", "reason"],
        "properties": {
            "error": {"type": "string", "enum": sorted({*ERROR_CODES.values(), LIMIT_EXCEEDED})},
            "field": {"type": ["string", "null"], "description": "the field, parameter or header at fault"},
            "reason": {"type": "string"},
            "problems": {
                "type": "array",
                "items": problem,
                "description": "when several fields are at fault",
            },
            "account": {**ref("Address"), "description": "limit_exceeded: the bounded account"},
            "available": {"type": "string", "description": "limit_exceeded: what the account has"},
            "bound": {"enum": ["min", "max"], "description": "limit_exceeded: the bound that would break"},
            "limit": {"type": "string", "description": "limit_exceeded: the bound's amount"},
            "amount": {"type": "string", "description": "limit_exceeded: the net amount the set asked"},
        },
    }
    return {
        "Error": error,
        "Address": address,
        "Leg": leg,
        "EntrySet": entry_set,
        **_answers(),
    }


def _answers() -> dict[str, Schema]:
    """The bodies of successful answers."""
    text, uuid_text = {"type": "string"}, {"type": "string", "pattern": UUID_PATTERN}
    parts = {name: text for name in ADDRESS_FIELDS}
    entry = {
        "type": "object",
        "required": [
            "entry_id",
            "address",
            "type",
            "amount",
            "description",
            "timestamp",
            "effective_at",
            "transaction_id",
        ],
        "properties": {
            "entry_id": text,
            "address": {"type": "object", "required": list(ADDRESS_FIELDS), "properties": parts},
            "type": {"enum": ["debit", "credit"]},
            "amount": {**text, "description": "exact decimal"},
            "description": text,
            "timestamp": {"type": "integer"},
            "effective_at": text,
            "transaction_id": uuid_text,
            "recorded_at": text,
        },
    }
    receipt = {
        "type": "object",
        "required": ["transaction_id", "status", "recorded_at", "entries"],
        "properties": {
            "transaction_id": uuid_text,
            "status": {"enum": ["recorded", "duplicate"]},
            "recorded_at": text,
            "entries": {"type": "array", "items": ref("Entry")},
        },
    }
    hold = {
        "type": "object",
        "required": ["transaction_id", "state", "recorded_at", "expires_at", "outcome_at", "entries"],
        "properties": {
            "transaction_id": uuid_text,
            "state": {"enum": ["pending", "captured", "voided", "expired"]},
            "recorded_at": text,
            "expires_at": text,
            "outcome_at": {"type": ["string", "null"]},
            "entries": {"type": "array", "items": ref("Entry"), "description": "the held legs"},
            "repeated": {
                "type": "boolean",
                "description": "the hold had this outcome (or was placed) before",
            },
        },
    }
    bound = {"type": ["string", "integer", "null"], "pattern": "^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$"}
    limit = {
        "type": "object",
        "required": ["pattern"],
        "properties": {
            "pattern": {**text, "description": "LE/NS/NAME/CUR/ACCT, any part but the currency may be *"},
            "min": {**bound, "description": "lowest balance allowed (null: none)"},
            "max": {**bound, "description": "highest balance allowed (null: none)"},
        },
    }
    line = {
        "type": "object",
        "required": ["line", "status"],
        "properties": {
            "line": {"type": "integer", "minimum": 1},
            "status": {"enum": ["recorded", "duplicate", "rejected", "conflict", "failed", "not_written"]},
            "transaction_id": uuid_text,
            "recorded_at": text,
            "error": ref("Error"),
        },
    }
    counts = [
        "sets",
        "recorded",
        "duplicate",
        "rejected",
        "conflict",
        "failed",
        "not_written",
        "entries_recorded",
    ]
    bulk = {
        "type": "object",
        "required": ["atomic", "results", *counts],
        "properties": {
            "atomic": {"type": "boolean"},
            **{name: {"type": "integer", "minimum": 0} for name in counts},
            "results": {"type": "array", "items": line},
        },
    }
    moment = {"type": ["string", "null"]}
    row = {
        "type": "object",
        "required": ["currency", "opening", "debits", "credits", "closing"],
        "properties": {
            **{name: text for name in ("currency", "opening", "debits", "credits", "closing")},
            **{
                name: {**text, "description": "with an address, when something is held there"}
                for name in ("pending_debits", "pending_credits", "available")
            },
        },
    }
    return {
        "Entry": entry,
        "Receipt": receipt,
        "Hold": hold,
        "Limit": limit,
        "Transaction": {
            "type": "object",
            "required": ["transaction_id", "recorded_at", "entries"],
            "properties": {
                "transaction_id": uuid_text,
                "recorded_at": text,
                "entries": {"type": "array", "items": ref("Entry")},
            },
        },
        "BulkResult": bulk,
        "AccountsPage": {
            "type": "object",
            "required": ["accounts", "next_cursor"],
            "properties": {
                "accounts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [*ADDRESS_FIELDS, "address"],
                        "properties": {**parts, "address": text},
                    },
                },
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        "EntriesPage": {
            "type": "object",
            "required": ["address", "as_of", "entries", "next_cursor"],
            "properties": {
                "address": text,
                "as_of": moment,
                "entries": {"type": "array", "items": ref("Entry")},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        "Balances": {
            "type": "object",
            "required": ["address", "name", "start", "end", "as_of", "balances"],
            "properties": {
                "address": moment,
                "name": moment,
                "start": moment,
                "end": moment,
                "as_of": moment,
                "balances": {"type": "array", "items": row},
            },
        },
        **_change_feed(text, uuid_text, moment),
        "OriginBalance": {
            "type": "object",
            "required": ["amount", "balance_name", "currency", "start", "end"],
            "properties": {
                "amount": {"type": "number", "description": "exact: as many digits as it needs"},
                "balance_name": text,
                "currency": text,
                "start": text,
                "end": text,
            },
        },
        "Health": {
            "type": "object",
            "required": ["status", "store"],
            "properties": {"status": {"enum": ["ok", "unavailable"]}, "store": text, "reason": text},
        },
    }


def _change_feed(text: Schema, uuid_text: Schema, moment: Schema) -> dict[str, Schema]:
    """The bodies of ``GET /changes``: a page of events and how far it is behind."""
    cursor = {"type": "string", "pattern": f"^({ISSUED_CURSOR})$", "maxLength": CHANGE_CURSOR_LENGTH}
    count = {"type": "integer", "minimum": 0}
    required = ["event_id", "type", "cursor", "transaction_id", "recorded_at", "recorded_at_ms", "entries"]
    event = {
        "type": "object",
        "description": "One committed entry set or hold event (its `event_id` is the same from every "
        "reader); a hold event's entries are the held legs, a capture is the entry set it records",
        "required": required,
        "properties": {
            "event_id": uuid_text,
            "type": {"enum": [kind.value for kind in ChangeType]},
            "cursor": {**cursor, "description": "resume here to read what follows this event"},
            "transaction_id": uuid_text,
            "recorded_at": text,
            "recorded_at_ms": {"type": "integer"},
            "entries": {"type": "array", "items": ref("Entry")},
            "reverses": {**uuid_text, "description": "the entry set a reversal.recorded reverses"},
            "expires_at": {**text, "description": "hold events: when the hold lapses"},
            "outcome_at": {**text, "description": "hold.voided, hold.expired: when it took effect"},
        },
    }
    lag = {
        "type": "object",
        "description": "how far the cursor is behind: in events (null where the store does not count "
        "them), in seconds (null where it does not say), and the writes it waits for (claimed, not "
        "yet known complete: `repair` finishes them)",
        "required": ["events", "seconds", "waiting", "oldest_waiting"],
        "properties": {
            "events": {**count, "type": ["integer", "null"]},
            "seconds": {"type": ["number", "null"], "minimum": 0},
            "waiting": count,
            "oldest_waiting": moment,
        },
    }
    page = {
        "type": "object",
        "required": ["events", "cursor", "more", "lag"],
        "properties": {
            "events": {"type": "array", "items": ref("Event")},
            "cursor": {**cursor, "description": "where the next call resumes (after every event here)"},
            "more": {"type": "boolean", "description": "more events wait: call again at once"},
            "lag": lag,
        },
    }
    return {"Event": event, "ChangesPage": page}
