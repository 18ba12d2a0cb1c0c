"""The compose screen's draft as plain data: per-field checks, live totals, JSON in and out.

Kept free of widgets so the rules are the domain's (its one leg validator and
totals_by_currency) and can be tested without a terminal; money stays Decimal throughout.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal

from ...domain.document import unencodable_text
from ...domain.legs import check_leg as validate_leg
from ...domain.legs import parse_effective_time
from ...domain.model import ADDRESS_FIELDS, CurrencyTotals, Leg, totals_by_currency
from ...domain.money import AmountError, Currencies, NumberOutOfRange, bounded_json_number, ungroup_amount
from ...domain.parse import MAX_LEGS, parse_transaction_id
from ...domain.text import shown
from ...domain.timeutil import to_epoch_ms
from ..widgets.formatting import money_text


@dataclass(slots=True)
class LegDraft:
    """One leg as typed: every field is text until it passes its check."""

    legal_entity: str = ""
    namespace: str = ""
    name: str = ""
    currency: str = ""
    account_id: str = ""
    side: str = "debit"
    amount: str = ""
    description: str = ""
    effective: str = ""

    @property
    def is_blank(self) -> bool:
        """Nothing typed yet (its missing fields are not worth shouting about)."""
        return not any(getattr(self, f.name).strip() for f in fields(self) if f.name != "side")


@dataclass(frozen=True, slots=True)
class LegCheck:
    """A leg's verdict: the valid Leg, or the reasons per field and the fields still empty."""

    leg: Leg | None
    errors: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DraftCheck:
    """The whole draft's verdict: per-leg checks, per-currency totals and a plain status line."""

    legs: list[LegCheck]
    totals: list[CurrencyTotals]
    status: str
    balanced: bool
    ready: bool


#: Where a problem the domain names (relative to a leg) shows on the draft's inputs.
DRAFT_FIELDS = {f"address.{name}": name for name in ADDRESS_FIELDS} | {
    "type": "side",
    "amount": "amount",
    "description": "description",
    "timestamp": "effective",
}


def effective_value(text: str) -> Decimal | NumberOutOfRange | str:
    """An effective time as typed: ASCII digits are epoch milliseconds, anything else ISO 8601."""
    stripped = text.strip()
    return bounded_json_number(stripped) if re.fullmatch("[0-9]+", stripped) else stripped


def _as_text(value: object) -> str:
    """A decoded JSON value as an input shows it (a number too long to compute with, as typed)."""
    return value.text if isinstance(value, NumberOutOfRange) else str(value)


def effective_time(text: str) -> datetime:
    """Parse an effective time as typed, in UTC."""
    return parse_effective_time(effective_value(text))


def check_leg(draft: LegDraft, currencies: Currencies) -> LegCheck:
    """Check one leg with the ledger's own leg validator; blank fields are 'missing', not errors."""
    missing = [name for name in ADDRESS_FIELDS if not getattr(draft, name)]
    if not draft.amount.strip():
        missing.append("amount")
    raw: dict[str, object] = {
        "address": {name: getattr(draft, name) or None for name in ADDRESS_FIELDS},
        "type": draft.side,
        "description": draft.description,
    }
    errors: dict[str, str] = {}
    if draft.amount.strip():
        try:
            raw["amount"] = ungroup_amount(draft.amount)
        except AmountError as error:
            errors["amount"] = str(error)
            raw["amount"] = "0"  # the other fields are still checked; the leg cannot be built
    if draft.effective.strip():
        raw["timestamp"] = effective_value(draft.effective)
    leg, problems = validate_leg(raw, currencies)
    if errors:
        leg = None
    for problem in problems:
        name = DRAFT_FIELDS.get(problem.field, problem.field)
        if name not in missing:
            errors.setdefault(name, problem.reason)
    return LegCheck(leg, errors, tuple(missing))


def check_draft(drafts: Sequence[LegDraft], currencies: Currencies) -> DraftCheck:
    """Check every leg, total the valid ones per currency and say whether the set can be posted."""
    checks = [check_leg(draft, currencies) for draft in drafts]
    legs = [check.leg for check in checks if check.leg is not None]
    totals = totals_by_currency(legs)
    unbalanced = [
        f"{t.currency} {'debits exceed credits' if t.difference > 0 else 'credits exceed debits'} by "
        f"{money_text(abs(t.difference), t.currency, currencies)}"
        for t in totals
        if t.difference
    ]
    incomplete = [
        index + 1
        for index, (draft, check) in enumerate(zip(drafts, checks, strict=True))
        if check.leg is None and not (draft.is_blank and not check.errors)
    ]
    blank = sum(1 for d, c in zip(drafts, checks, strict=True) if c.leg is None and d.is_blank)
    balanced = not unbalanced
    ready = balanced and not incomplete and not blank and len(legs) >= 2
    if unbalanced:
        status = "Unbalanced: " + "; ".join(unbalanced)
    elif not legs:
        status = "Empty draft: fill in at least two legs"
    elif ready:
        status = "Balanced"
    else:
        status = "Balanced so far"
    if incomplete:
        status += " · legs to fix: " + ", ".join(str(n) for n in incomplete)
    elif blank and legs:
        status += f" · {blank} empty leg{'s' if blank != 1 else ''} (fill in or remove with ctrl+l)"
    elif len(legs) == 1 and not unbalanced:
        status += " · add a second leg"
    return DraftCheck(checks, totals, status, balanced, ready)


def _saved_amount(text: str) -> str:
    """An amount as a file keeps it: without thousands separators when they are in place."""
    try:
        return ungroup_amount(text).strip()
    except AmountError:
        return text.strip()  # saved as typed; the check names the problem on load


def draft_to_data(transaction_id: uuid.UUID, drafts: Sequence[LegDraft]) -> dict[str, object]:
    """The origin's JSON shape of a draft, amounts as strings (never JSON floats)."""
    entries: list[dict[str, object]] = []
    for draft in drafts:
        item: dict[str, object] = {
            "address": {name: getattr(draft, name) for name in ADDRESS_FIELDS},
            "amount": _saved_amount(draft.amount),
            "type": draft.side,
            "description": draft.description,
        }
        if draft.effective.strip():
            try:
                item["timestamp"] = to_epoch_ms(effective_time(draft.effective))
            except ValueError:
                item["timestamp"] = draft.effective.strip()  # saved as typed; rejected on post
        entries.append(item)
    return {"transaction_id": str(transaction_id), "entries": entries}


def _instant_input_text(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


def draft_from_data(data: object) -> tuple[uuid.UUID | None, list[LegDraft]]:
    """Legs (as text) and the optional transaction id of a decoded entry-set document."""
    if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
        raise ValueError("the document must be a JSON object with an 'entries' list")
    unencodable = unencodable_text(data)  # an input cannot even show a lone surrogate
    if unencodable:
        raise ValueError(unencodable)
    if len(data["entries"]) > MAX_LEGS:
        raise ValueError(f"entries: has more than {MAX_LEGS} legs")
    transaction_id: uuid.UUID | None = None
    if data.get("transaction_id") is not None:
        try:
            transaction_id = parse_transaction_id(data["transaction_id"], submitted=True)
        except ValueError as error:
            raise ValueError(f"transaction_id: {error}") from None
    drafts: list[LegDraft] = []
    for index, raw in enumerate(data["entries"]):
        if not isinstance(raw, Mapping):
            raise ValueError(f"entries[{index}] must be an object")
        side = raw.get("type", raw.get("side"))
        if side not in ("debit", "credit"):  # never guess a side: a wrong one moves money the wrong way
            raise ValueError(f"entries[{index}].type must be debit or credit, not {shown(side)}")
        address = raw.get("address")
        parts = address if isinstance(address, Mapping) else {}
        effective = ""
        timestamp = raw.get("timestamp")
        if timestamp is not None:
            try:
                effective = _instant_input_text(parse_effective_time(timestamp))
            except ValueError:
                effective = _as_text(timestamp)
        drafts.append(
            LegDraft(
                **{name: _as_text(parts.get(name, "")) for name in ADDRESS_FIELDS},
                side=str(side),
                amount="" if raw.get("amount") is None else _as_text(raw.get("amount")),
                description=_as_text(raw.get("description", "")),
                effective=effective,
            )
        )
    return transaction_id, drafts
