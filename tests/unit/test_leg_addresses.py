"""Remembered valid addresses: a leg is checked alike whether its address was seen before or not."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.domain import legs as leg_rules
from ledger_tui.domain.legs import check_leg
from ledger_tui.domain.model import ADDRESS_FIELDS
from ledger_tui.domain.money import DEFAULT_CURRENCIES, Currencies

_PART = st.sampled_from(
    ["acme", "ops", "*", "", " x", "a\x00b", "e\u0301", "GBP", "JPY", "XTS", "gbp"]
) | st.one_of(
    st.none(),
    st.integers(0, 3),
    st.lists(st.just("a"), max_size=1),
    st.dictionaries(st.just("k"), st.just(1)),
)
_ADDRESS = st.fixed_dictionaries(
    {},
    optional={name: _PART for name in ("legal_entity", "namespace", "name", "currency", "account_id")},
)
_LEG = st.fixed_dictionaries(
    {"address": _ADDRESS | _PART},
    optional={
        "type": st.sampled_from(["debit", "credit", "Debit", 1]),
        "amount": st.sampled_from(["1.00", "1", "0.001", "-1", "x", 5]),
        "description": st.sampled_from(["", "rent", 7]),
        "timestamp": st.sampled_from([0, 1727347200000, "2026-01-01T00:00:00Z", "soon", None]),
    },
)
_REGISTRIES = [DEFAULT_CURRENCIES, Currencies(extra={"XTS": 4})]


@given(st.lists(_LEG, max_size=6), st.sampled_from(_REGISTRIES))
def test_a_remembered_address_checks_like_a_fresh_one(
    raws: list[dict[str, Any]], currencies: Currencies
) -> None:
    """Each leg gets the same Leg or the same problems with a cold cache and a warm one (after
    every leg of the list was checked once); only valid addresses are ever remembered."""
    leg_rules._KNOWN_ADDRESSES.clear()
    cold = [check_leg(raw, currencies) for raw in raws]
    warm = [check_leg(raw, currencies) for raw in raws]
    assert warm == cold
    for key, address in list(leg_rules._KNOWN_ADDRESSES.items()):
        registry, parts = key[0], key[1:]
        assert isinstance(registry, Currencies) and all(isinstance(part, str) for part in parts)
        assert address.as_tuple() == parts
        leg_rules._KNOWN_ADDRESSES.clear()
        fresh = check_leg({"address": dict(zip(ADDRESS_FIELDS, parts, strict=True))}, registry)
        assert not [p for p in fresh[1] if p.field.startswith("address")], (parts, fresh)


def test_an_address_valid_in_one_registry_is_not_taken_as_valid_in_another() -> None:
    """The registry is part of what is remembered: XTS known to one ledger stays unknown to the
    default registry after the first one accepted it."""
    raw = {
        "address": {"legal_entity": "a", "namespace": "b", "name": "c", "currency": "XTS", "account_id": "*"},
        "type": "debit",
        "amount": "1.0000",
    }
    leg, problems = check_leg(raw, Currencies(extra={"XTS": 4}))
    assert leg is not None and not problems
    leg, problems = check_leg(raw, DEFAULT_CURRENCIES)
    assert leg is None and [p.field for p in problems] == ["address.currency"]
