"""The ledger's nouns: addresses, legs, recorded transactions, entries and receipts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.balance import signed
from ledger_tui.domain.model import (
    Address,
    CurrencyTotals,
    EntrySet,
    Leg,
    PostStatus,
    Receipt,
    RecordedTransaction,
    Side,
    canonical_text,
    is_balanced,
    totals_by_currency,
)
from ledger_tui.domain.parse import unbalanced_problems
from ledger_tui.domain.timeutil import MAX_EPOCH_MS, from_epoch_ms

GBP = Address("fintech_uk", "com.fintech.account", "main", "GBP", "*")
EUR = Address("fintech_eu", "com.fintech.customer", "current", "EUR", "cust-000001")
RECORDED = datetime(2024, 11, 5, 9, 30, 0, 123000, tzinfo=UTC)
TXID = uuid.UUID("3f0e8a8e-6d4c-4f59-9a55-0d2f4c6b1a7e")


def test_address_shapes() -> None:
    assert str(GBP) == "fintech_uk/com.fintech.account/main/GBP/*"
    assert GBP.to_json() == {
        "legal_entity": "fintech_uk",
        "namespace": "com.fintech.account",
        "name": "main",
        "currency": "GBP",
        "account_id": "*",
    }
    assert Address(**GBP.to_json()) == GBP
    assert sorted([EUR, GBP]) == [EUR, GBP]  # tree order: legal entity first


def test_totals_by_currency_keeps_first_appearance_order_and_precision() -> None:
    legs = [
        Leg(EUR, Side.CREDIT, Decimal("5.00")),
        Leg(GBP, Side.DEBIT, Decimal("1.10")),
        Leg(GBP, Side.DEBIT, Decimal("2.20")),
        Leg(GBP, Side.CREDIT, Decimal("3.30")),
    ]
    eur, gbp = totals_by_currency(legs)
    assert (eur.currency, str(eur.debits), str(eur.credits), str(eur.difference)) == (
        "EUR",
        "0.00",
        "5.00",
        "-5.00",
    )
    assert (gbp.currency, str(gbp.debits), str(gbp.credits), gbp.difference) == ("GBP", "3.30", "3.30", 0)
    assert totals_by_currency([]) == []
    assert CurrencyTotals("JPY", Decimal(7), Decimal(2)).difference == 5


def _legs() -> tuple[Leg, ...]:
    return (
        Leg(GBP, Side.DEBIT, Decimal("100.00"), "Initial funding", datetime(2024, 9, 26, 10, 40, tzinfo=UTC)),
        Leg(EUR, Side.CREDIT, Decimal("100.00"), 'quote " and ünïcode', None),
    )


def test_recorded_transaction_entries_resolve_times_and_ids() -> None:
    legs = _legs()
    recorded = RecordedTransaction(TXID, legs, "hash", RECORDED)
    first, second = recorded.entries()
    assert first.effective_at == legs[0].effective_at
    assert second.effective_at == RECORDED  # no timestamp: effective when recorded
    assert [e.leg_index for e in (first, second)] == [0, 1]
    assert first.entry_id == f"{TXID}/0" and second.entry_id == f"{TXID}/1"
    assert signed(first.side, first.amount) == Decimal("-100.00")  # debits subtract
    assert signed(second.side, second.amount) == Decimal("100.00")  # credits add
    assert all(e.recorded_at == RECORDED and e.transaction_id == TXID for e in (first, second))


def test_entry_json_keeps_amounts_as_strings() -> None:
    [entry, _] = RecordedTransaction(TXID, _legs(), "hash", RECORDED).entries()
    data = entry.to_json()
    assert data == {
        "entry_id": f"{TXID}/0",
        "address": GBP.to_json(),
        "type": "debit",
        "amount": "100.00",
        "description": "Initial funding",
        "timestamp": 1727347200000,
        "effective_at": "2024-09-26T10:40:00.000+00:00",
        "transaction_id": str(TXID),
    }
    json.dumps(data)  # serialisable without a custom encoder


def test_legs_json_round_trips() -> None:
    legs = _legs()
    recorded = RecordedTransaction(TXID, legs, "hash", RECORDED)
    text = recorded.legs_json()
    assert json.loads(text) == [leg.canonical() for leg in legs]
    assert '", "' not in text  # compact separators
    assert RecordedTransaction.legs_from_json(text) == legs


def test_receipt_json() -> None:
    recorded = RecordedTransaction(TXID, _legs(), "hash", RECORDED)
    receipt = Receipt(recorded, PostStatus.DUPLICATE, recorded.entries())
    assert receipt.transaction_id == TXID
    assert receipt.recorded_at == RECORDED
    data = receipt.to_json()
    assert data["status"] == "duplicate"
    assert data["recorded_at"] == "2024-11-05T09:30:00.123+00:00"
    entries = data["entries"]
    assert isinstance(entries, list)
    assert [e["entry_id"] for e in entries] == [f"{TXID}/0", f"{TXID}/1"]
    assert Receipt(recorded, PostStatus.RECORDED).to_json()["entries"] == []


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(1, 10**24),
    digits=st.sampled_from([0, 2, 3]),
    side=st.sampled_from(list(Side)),
    description=st.text(max_size=30),
    ms=st.none() | st.integers(0, MAX_EPOCH_MS),
)
def test_leg_canonical_round_trip(
    units: int, digits: int, side: Side, description: str, ms: int | None
) -> None:
    leg = Leg(
        EUR, side, Decimal(units).scaleb(-digits), description, None if ms is None else from_epoch_ms(ms)
    )
    again = Leg.from_canonical(json.loads(json.dumps(leg.canonical())))
    assert again == leg
    assert str(again.amount) == str(leg.amount)  # scale survives, not just value
    if leg.effective_at is not None:
        assert again.effective_at is not None
        assert again.effective_at - leg.effective_at == timedelta(0)


_TEXT = st.text(max_size=12)
_LEG = st.builds(
    Leg,
    address=st.builds(Address, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT),
    side=st.sampled_from(Side),
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=None),
    description=_TEXT,
    effective_at=st.none() | st.integers(0, MAX_EPOCH_MS).map(from_epoch_ms),
)


@settings(max_examples=300)
@given(st.lists(_LEG, min_size=1, max_size=5))
def test_canonical_text_is_the_generic_encoders_output(legs: list[Leg]) -> None:
    """The hand-written canonical JSON equals json.dumps with sorted keys, byte for byte (the
    payload hash of every stored set depends on it)."""
    expected = json.dumps([leg.canonical() for leg in legs], sort_keys=True, separators=(",", ":"))
    assert canonical_text(tuple(legs)) == expected
    entry_set = EntrySet(TXID, tuple(legs))
    assert entry_set.canonical_text == expected
    assert RecordedTransaction.of(entry_set, RECORDED).legs_json() == expected
    assert RecordedTransaction.legs_from_json(expected) == tuple(legs)


_CURRENCY_LEG = st.builds(
    Leg,
    address=st.builds(
        Address,
        st.just("e"),
        st.just("n"),
        st.just("x"),
        st.sampled_from(["GBP", "USD", "JPY"]),
        st.just("a"),
    ),
    side=st.sampled_from(Side),
    amount=st.sampled_from(
        [Decimal("0"), Decimal("0.00"), Decimal("1"), Decimal("1.00"), Decimal("0.01"), Decimal("2.5")]
    )
    | st.decimals(min_value=0, max_value=Decimal("1e30"), places=2),
)


@given(st.lists(_CURRENCY_LEG, max_size=8), st.data())
def test_the_quick_balance_check_agrees_with_the_worded_one(legs: list[Leg], data: st.DataObject) -> None:
    """``is_balanced`` (one pass of signed sums) says balanced exactly when the per-currency
    totals report no difference; mirrored legs (each leg and its opposite) always balance."""
    assert is_balanced(legs) == (not unbalanced_problems(legs))
    mirrored = legs + [
        Leg(leg.address, Side.CREDIT if leg.side is Side.DEBIT else Side.DEBIT, leg.amount) for leg in legs
    ]
    order = data.draw(st.permutations(mirrored))
    assert is_balanced(order) and not unbalanced_problems(order)
