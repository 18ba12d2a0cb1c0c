"""A ledger dump: its header, one line per entry set as recorded, its footer, and the books' digest.

Why this shape: a set line is the origin's entry set (``transaction_id``, ``entries``) plus the
time it was recorded and its payload hash, so a restore keeps receipts, as-of reads and blocks
exactly, and a line changed by hand is refused instead of restored wrong. The digest is a sum of
per-set hashes, so two ledgers can be compared while scanning each in any order.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .errors import FieldProblem, ValidationError
from .layout import (
    MAX_PARTITION_ROWS,
    MIN_PARTITION_ROWS,
    PARTITION_ROWS_SETTING,
    AccountLayout,
    layout_from_record,
    layout_record,
)
from .model import RecordedTransaction
from .money import DEFAULT_CURRENCIES, Currencies
from .parse import entry_set_from_data, loads_exact
from .reversal import reversal_id
from .text import shown
from .timeutil import MAX_EPOCH_MS, from_epoch_ms, parse_instant, to_epoch_ms

FORMAT = "ledger-tui dump"
VERSION = 1
#: Ledger settings a dump carries: the seal horizon makes the books (which entries are late);
#: the claim shards are the source's layout, kept for the record; the partition rows size the
#: splits the copy makes itself.
CARRIED_SETTINGS = ("seal_horizon_ms", "claim_shards", PARTITION_ROWS_SETTING)
_DIGEST_MODULUS = 1 << 256
#: Layout changes a dump header may carry (each is one busy account's; thousands would be odd).
MAX_LAYOUTS = 100_000


def _rows_ok(digits: str) -> bool:
    return len(digits) <= 7 and MIN_PARTITION_ROWS <= int(digits) <= MAX_PARTITION_ROWS


@dataclass(frozen=True, slots=True)
class DumpHeader:
    """The first line: which dump this is, of which books (``as_of``), with which settings."""

    dump_id: uuid.UUID
    as_of: datetime | None = None
    settings: dict[str, str] = field(default_factory=dict)
    #: How split accounts' entries are partitioned (a restore records them before any set).
    layouts: tuple[AccountLayout, ...] = ()

    def to_line(self) -> str:
        """The header as one JSON line."""
        data: dict[str, object] = {"format": FORMAT, "version": VERSION, "dump_id": str(self.dump_id)}
        data["as_of"] = None if self.as_of is None else instant_text(self.as_of)
        data["settings"] = {name: self.settings[name] for name in sorted(self.settings)}
        if self.layouts:
            data["layouts"] = [layout_record(change) for change in self.layouts]
        return json.dumps(data, separators=(",", ":")) + "\n"


@dataclass(frozen=True, slots=True)
class DumpFooter:
    """The last line: how many sets and entries, and the digest of the books dumped."""

    sets: int
    entries: int
    digest: str

    def to_line(self) -> str:
        """The footer as one JSON line."""
        data = {"end": True, "sets": self.sets, "entries": self.entries, "digest": self.digest}
        return json.dumps(data, separators=(",", ":")) + "\n"


@dataclass(slots=True)
class BooksDigest:
    """Every set of a ledger as one number: equal for two ledgers exactly when they hold the same
    sets (id, recorded time, payload), whatever order they were added in."""

    sets: int = 0
    entries: int = 0
    _sum: int = 0

    def add(self, transaction: RecordedTransaction) -> None:
        """Count one set."""
        recorded = to_epoch_ms(transaction.recorded_at)
        key = f"{transaction.transaction_id}|{recorded}|{transaction.payload_hash}".encode()
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(key).digest(), "big")) % _DIGEST_MODULUS
        self.sets += 1
        self.entries += len(transaction.legs)

    @property
    def hexdigest(self) -> str:
        """The digest as 64 hex digits."""
        return f"{self._sum:064x}"


def instant_text(moment: datetime) -> str:
    """An instant as the dump writes it: ISO 8601 UTC with milliseconds."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reverses(transaction: RecordedTransaction) -> uuid.UUID | None:
    """The original this set reverses, when its legs name it as the engine words a reversal (the
    id proves it: a reversal's id derives from the original's); else None."""
    description = transaction.legs[0].description if transaction.legs else ""
    if not description.startswith("Reversal of "):
        return None
    try:
        candidate = uuid.UUID(description[len("Reversal of ") :].split(":", 1)[0])
    except ValueError:
        return None
    return candidate if reversal_id(candidate) == transaction.transaction_id else None


def set_line(transaction: RecordedTransaction) -> str:
    """One recorded set as a JSON line: the origin's entry set plus recorded time and payload hash."""
    data: dict[str, object] = {
        "transaction_id": str(transaction.transaction_id),
        "recorded_at": instant_text(transaction.recorded_at),
        "payload_hash": transaction.payload_hash,
        "entries": json.loads(transaction.legs_json()),
    }
    original = reverses(transaction)
    if original is not None:
        data["reverses"] = str(original)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def parse_set_line(text: str, currencies: Currencies = DEFAULT_CURRENCIES) -> RecordedTransaction:
    """A set line back into the set as it was recorded; a line whose legs do not hash to its
    ``payload_hash`` (changed by hand, or cut) is refused, naming the field."""
    data = loads_exact(text)
    if not isinstance(data, dict):
        raise ValidationError.single("", "must be a JSON object (one entry set per line)")
    for kind in ("hold", "limit"):
        if kind in data:
            raise ValidationError.single(
                kind, "holds and limits are restored only into an embedded (sqlite) ledger, in one process"
            )
    return recorded_set(data, currencies)


def recorded_set(data: dict[str, object], currencies: Currencies = DEFAULT_CURRENCIES) -> RecordedTransaction:
    """A decoded set line's set as it was recorded (its hash checked against its legs)."""
    problems: list[FieldProblem] = []
    if "transaction_id" not in data:
        problems.append(FieldProblem("transaction_id", "is required"))
    recorded_at = _recorded_at(data.get("recorded_at"), problems)
    payload_hash = data.get("payload_hash")
    if not isinstance(payload_hash, str) or len(payload_hash) != 64:
        problems.append(FieldProblem("payload_hash", "is required: 64 hex digits"))
    if problems:
        raise ValidationError(problems)
    entry_set = entry_set_from_data(data, currencies, recorded=True)
    if entry_set.payload_hash != payload_hash:
        raise ValidationError.single("payload_hash", "does not match the entries (the line was changed)")
    assert recorded_at is not None
    return RecordedTransaction.of(entry_set, recorded_at)


def _recorded_at(value: object, problems: list[FieldProblem]) -> datetime | None:
    if not isinstance(value, str) or not value.isascii():
        problems.append(FieldProblem("recorded_at", "is required: an ISO 8601 UTC instant"))
        return None
    try:
        moment = parse_instant(value)
    except ValueError as error:
        problems.append(FieldProblem("recorded_at", str(error)))
        return None
    if not 0 <= to_epoch_ms(moment) <= MAX_EPOCH_MS or from_epoch_ms(to_epoch_ms(moment)) != moment:
        reason = f"{shown(value)} is not a whole millisecond from 1970 on"
        problems.append(FieldProblem("recorded_at", reason))
        return None
    return moment


def parse_header(text: str) -> DumpHeader:
    """The dump's first line; anything else is refused with the reason (not a dump, another version)."""
    try:
        data = loads_exact(text)
    except ValidationError:
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError.single("header", "the first line is not a ledger-tui dump header")
    if data.get("version") != VERSION:
        raise ValidationError.single("header.version", f"must be {VERSION}, the one this version reads")
    problems: list[FieldProblem] = []
    try:
        dump_id = uuid.UUID(str(data.get("dump_id")))
    except ValueError:
        problems.append(FieldProblem("header.dump_id", "must be a UUID"))
    as_of = None
    if data.get("as_of") is not None:
        try:
            as_of = parse_instant(str(data["as_of"]))
        except ValueError as error:
            problems.append(FieldProblem("header.as_of", str(error)))
    settings = data.get("settings", {})
    if not isinstance(settings, dict) or not all(
        name in CARRIED_SETTINGS and isinstance(value, str) and value.isascii() and value.isdigit()
        for name, value in settings.items()
    ):
        reason = f"may hold only {', '.join(CARRIED_SETTINGS)}, as digits"
        problems.append(FieldProblem("header.settings", reason))
    elif not _rows_ok(settings.get(PARTITION_ROWS_SETTING, str(MAX_PARTITION_ROWS))):
        reason = f"must be {MIN_PARTITION_ROWS:,} to {MAX_PARTITION_ROWS:,}"
        problems.append(FieldProblem(f"header.settings.{PARTITION_ROWS_SETTING}", reason))
    layouts: list[AccountLayout] = []
    found = data.get("layouts", [])
    if not isinstance(found, list) or len(found) > MAX_LAYOUTS:
        problems.append(
            FieldProblem("header.layouts", f"must be a list of at most {MAX_LAYOUTS} layout changes")
        )
        found = []
    for index, record in enumerate(found):
        try:
            layouts.append(layout_from_record(record, f"header.layouts[{index}]"))
        except ValidationError as error:
            problems += error.problems
    if problems:
        raise ValidationError(problems)
    return DumpHeader(dump_id, as_of, dict(settings), tuple(layouts))


def parse_footer(data: dict[str, object]) -> DumpFooter:
    """The last line (a decoded object with ``"end": true``)."""
    sets, entries, digest = _count(data.get("sets")), _count(data.get("entries")), data.get("digest")
    if sets is None or entries is None or not isinstance(digest, str) or len(digest) != 64:
        raise ValidationError.single("footer", "must give sets, entries and a 64-digit digest")
    return DumpFooter(sets, entries, digest)


def _count(value: object) -> int | None:
    """A whole, non-negative JSON number (decoded as Decimal, or as int), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, Decimal) and value.is_finite() and value >= 0 and value == value.to_integral_value():
        return int(value)
    return None
