"""The lines of a dump beside its sets: the limit history and every hold with its outcome.

Why apart from the set lines: they are not entry sets (the digest covers sets only), a restore
writes them after every set (so no limit refuses a set the source once accepted), and a captured
hold's set is already a set line under the hold's id: its hold line carries the held legs only.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from .dump import instant_text, recorded_set, set_line
from .errors import ValidationError
from .holds import Hold, HoldOutcome
from .limits import Limit, LimitChange, parse_limit_pattern
from .money import DEFAULT_CURRENCIES, Currencies
from .parse import loads_exact
from .timeutil import parse_instant

#: How the lines begin (a reader tells them from set lines by their first key).
HOLD_PREFIX = '{"hold":'
LIMIT_PREFIX = '{"limit":'


def is_extra_line(text: str) -> bool:
    """Whether a dump line is a hold or a limit line."""
    return text.startswith((HOLD_PREFIX, LIMIT_PREFIX))


def hold_at(hold: Hold, as_of: datetime | None) -> Hold | None:
    """The hold as it stood at ``as_of`` (None: not placed yet; an outcome after it is dropped)."""
    if as_of is None:
        return hold
    if hold.transaction.recorded_at > as_of:
        return None
    if hold.outcome_at is not None and hold.outcome_at > as_of:
        return Hold(hold.transaction, hold.expires_at)
    return hold


def hold_line(hold: Hold) -> str:
    """One hold as a JSON line: its set as a set line, its expiry, and its outcome if any."""
    data: dict[str, object] = json.loads(set_line(hold.transaction))
    data["expires_at"] = instant_text(hold.expires_at)
    data["outcome"] = None if hold.outcome is None else hold.outcome.value
    data["outcome_at"] = None if hold.outcome_at is None else instant_text(hold.outcome_at)
    return json.dumps({"hold": data}, separators=(",", ":"), ensure_ascii=False) + "\n"


def limit_line(change: LimitChange) -> str:
    """One limit change as a JSON line (who and when kept)."""
    limit = change.limit
    data = {
        "pattern": str(limit.pattern),
        "min": None if limit.minimum is None else str(limit.minimum),
        "max": None if limit.maximum is None else str(limit.maximum),
        "changed_by": change.changed_by,
        "changed_at": instant_text(change.changed_at),
    }
    return json.dumps({"limit": data}, separators=(",", ":"), ensure_ascii=False) + "\n"


def _instant(data: dict[str, object], name: str, field: str) -> datetime:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValidationError.single(field, "is required: an ISO 8601 UTC instant")
    try:
        return parse_instant(value)
    except ValueError as error:
        raise ValidationError.single(field, str(error)) from None


def _bound(value: object, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)) if isinstance(value, str) and value.isascii() else Decimal("nan")
    except ArithmeticError:
        raise ValidationError.single(field, "must be a decimal amount") from None


def parse_extra_line(text: str, currencies: Currencies = DEFAULT_CURRENCIES) -> Hold | LimitChange:
    """A hold or limit line back into what it records; a bad field is refused, naming it."""
    data = loads_exact(text)
    if not isinstance(data, dict):
        raise ValidationError.single("", "must be a JSON object")
    if isinstance(data.get("hold"), dict):
        held: dict[str, object] = data["hold"]
        outcome = held.get("outcome")
        if outcome is not None and outcome not in {o.value for o in HoldOutcome}:
            raise ValidationError.single("hold.outcome", "must be captured, voided, expired or null")
        outcome_at = None if outcome is None else _instant(held, "outcome_at", "hold.outcome_at")
        return Hold(
            recorded_set(held, currencies),
            _instant(held, "expires_at", "hold.expires_at"),
            None if outcome is None else HoldOutcome(str(outcome)),
            outcome_at,
        )
    limit = data.get("limit")
    if not isinstance(limit, dict):
        raise ValidationError.single("", "must be a hold or a limit line")
    minimum, maximum = _bound(limit.get("min"), "limit.min"), _bound(limit.get("max"), "limit.max")
    if any(b is not None and not b.is_finite() for b in (minimum, maximum)):
        raise ValidationError.single("limit", "min and max must be decimal amounts or null")
    by = limit.get("changed_by")
    if not isinstance(by, str) or not by:
        raise ValidationError.single("limit.changed_by", "is required")
    pattern = parse_limit_pattern(str(limit.get("pattern")))
    changed_at = _instant(limit, "changed_at", "limit.changed_at")
    return LimitChange(Limit(pattern, minimum, maximum), by, changed_at)
