"""The compose screen's draft as plain data: per-field checks, live totals, JSON in and out.

Kept free of widgets so the rules are the domain's (parse_amount, validate_address_part,
totals_by_currency) and can be tested without a terminal; money stays Decimal throughout.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal

from ..domain.model import ADDRESS_FIELDS, Address, CurrencyTotals, Leg, Side, totals_by_currency
from ..domain.money import AmountError, Currencies, CurrencyError, parse_amount
from ..domain.parse import MAX_DESCRIPTION_LENGTH, parse_effective_time, validate_address_part
from ..domain.timeutil import to_epoch_ms
from .formatting import money_text


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


def effective_time(text: str) -> datetime:
    """Parse an effective time as typed: ISO 8601 date/time or epoch milliseconds, in UTC."""
    stripped = text.strip()
    return parse_effective_time(Decimal(stripped) if stripped.isdigit() else stripped)


def check_leg(draft: LegDraft, currencies: Currencies) -> LegCheck:
    """Check each field of one leg with the same rules the ledger applies on post."""
    errors: dict[str, str] = {}
    missing: list[str] = []
    for name in ADDRESS_FIELDS:
        value = getattr(draft, name)
        if not value:
            missing.append(name)
            continue
        reason = validate_address_part(name, value)
        if reason:
            errors[name] = reason
    currency_ok = False
    if draft.currency and "currency" not in errors:
        try:
            currencies.digits(draft.currency)
            currency_ok = True
        except CurrencyError as error:
            errors["currency"] = str(error)
    if draft.side not in (Side.DEBIT.value, Side.CREDIT.value):
        errors["side"] = "must be debit or credit"
    amount: Decimal | None = None
    if not draft.amount.strip():
        missing.append("amount")
    elif currency_ok:
        try:
            amount = parse_amount(draft.amount, draft.currency, currencies)
        except (AmountError, CurrencyError) as error:
            errors["amount"] = str(error)
    else:
        try:  # the precision check needs a currency; still catch text that is no number at all
            parse_amount(draft.amount, "XXX", Currencies({"XXX": 8}))
        except AmountError as error:
            errors["amount"] = str(error)
    if len(draft.description) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = f"is longer than {MAX_DESCRIPTION_LENGTH} characters"
    effective: datetime | None = None
    if draft.effective.strip():
        try:
            effective = effective_time(draft.effective)
        except ValueError as error:
            errors["effective"] = str(error)
    if errors or missing or amount is None:
        return LegCheck(None, errors, tuple(missing))
    leg = Leg(
        address=Address(*(getattr(draft, name) for name in ADDRESS_FIELDS)),
        side=Side(draft.side),
        amount=amount,
        description=draft.description,
        effective_at=effective,
    )
    return LegCheck(leg, errors, ())


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


def draft_to_data(transaction_id: uuid.UUID, drafts: Sequence[LegDraft]) -> dict[str, object]:
    """The origin's JSON shape of a draft, amounts as strings (never JSON floats)."""
    entries: list[dict[str, object]] = []
    for draft in drafts:
        item: dict[str, object] = {
            "address": {name: getattr(draft, name) for name in ADDRESS_FIELDS},
            "amount": draft.amount.strip(),
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
    transaction_id: uuid.UUID | None = None
    if data.get("transaction_id") is not None:
        transaction_id = uuid.UUID(str(data["transaction_id"]))
    drafts: list[LegDraft] = []
    for index, raw in enumerate(data["entries"]):
        if not isinstance(raw, Mapping):
            raise ValueError(f"entries[{index}] must be an object")
        side = raw.get("type", raw.get("side"))
        if side not in ("debit", "credit"):  # never guess a side: a wrong one moves money the wrong way
            raise ValueError(f"entries[{index}].type must be debit or credit, not {side!r}")
        address = raw.get("address")
        parts = address if isinstance(address, Mapping) else {}
        effective = ""
        timestamp = raw.get("timestamp")
        if timestamp is not None:
            try:
                effective = _instant_input_text(parse_effective_time(timestamp))
            except ValueError:
                effective = str(timestamp)
        drafts.append(
            LegDraft(
                **{name: str(parts.get(name, "")) for name in ADDRESS_FIELDS},
                side=str(side),
                amount="" if raw.get("amount") is None else str(raw.get("amount")),
                description=str(raw.get("description", "")),
                effective=effective,
            )
        )
    return transaction_id, drafts
