"""The deterministic sample generator: reproducible, balanced, realistic and skewed."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ledger_tui.domain.model import EntrySet, Side, totals_by_currency
from ledger_tui.domain.money import DEFAULT_CURRENCIES
from ledger_tui.domain.parse import unbalanced_problems
from ledger_tui.domain.timeutil import bucket_of
from ledger_tui.loader.generate import SampleGenerator

UNTIL = datetime(2024, 11, 1, tzinfo=UTC)
MONTHS = 12
COUNT = 3000


def generate(
    seed: int = 7, count: int = COUNT, until: datetime = UNTIL, months: int = MONTHS
) -> list[EntrySet]:
    return list(SampleGenerator(seed, until, months).entry_sets(count))


@pytest.fixture(scope="module")
def sets() -> list[EntrySet]:
    return generate()


def fingerprint(entry_set: EntrySet) -> tuple[object, ...]:
    return (entry_set.transaction_id, entry_set.payload_hash, entry_set.legs)


def test_same_seed_same_ledger(sets: list[EntrySet]) -> None:
    again = generate()
    assert [fingerprint(s) for s in again] == [fingerprint(s) for s in sets]


def test_different_seeds_differ(sets: list[EntrySet]) -> None:
    other = generate(seed=8, count=200)
    assert {s.transaction_id for s in other}.isdisjoint(s.transaction_id for s in sets)
    # Beyond the fixed funding set, the payloads differ too.
    assert other[0].legs[0].amount == sets[0].legs[0].amount
    assert [s.payload_hash for s in other[1:]] != [s.payload_hash for s in sets[1:200]]


def test_prefix_is_stable_when_asking_for_more() -> None:
    # A load can be resumed: the first n sets do not depend on how many are requested.
    assert [fingerprint(s) for s in generate(count=50)] == [fingerprint(s) for s in generate(count=80)[:50]]


@pytest.mark.parametrize("count", [1, 2, 17])
def test_count_includes_the_funding_set(count: int) -> None:
    assert len(generate(count=count)) == count


def test_transaction_ids_are_unique_version_4(sets: list[EntrySet]) -> None:
    ids = [s.transaction_id for s in sets]
    assert len(set(ids)) == len(ids) == COUNT
    assert all(i.version == 4 for i in ids)


def test_first_set_funds_every_entity(sets: list[EntrySet]) -> None:
    funding = sets[0]
    assert len(funding.legs) == 6
    assert [t.currency for t in totals_by_currency(funding.legs)] == ["GBP", "EUR", "USD"]
    assert {str(leg.amount) for leg in funding.legs} == {"5000000.00"}
    assert {leg.effective_at for leg in funding.legs} == {UNTIL - timedelta(days=round(MONTHS * 30.44))}


def test_every_set_balances_in_every_currency(sets: list[EntrySet]) -> None:
    for entry_set in sets:
        assert unbalanced_problems(entry_set.legs) == []
        assert len(entry_set.legs) >= 2
        for totals in totals_by_currency(entry_set.legs):
            assert totals.debits == totals.credits > 0
            assert totals.debits > 0
        for leg in entry_set.legs:
            assert leg.amount > 0
            quantum = DEFAULT_CURRENCIES.quantum(leg.address.currency)
            assert leg.amount == leg.amount.quantize(quantum), leg  # within the currency's precision
            assert leg.address.currency == leg.address.currency.upper()


def test_currencies_and_leg_counts(sets: list[EntrySet]) -> None:
    currencies = Counter(leg.address.currency for s in sets[1:] for leg in s.legs)
    assert set(currencies) == {"GBP", "EUR", "USD"}
    assert currencies["GBP"] > currencies["EUR"] > currencies["USD"]  # the UK entity dominates
    sizes = Counter(len(s.legs) for s in sets[1:])
    assert set(sizes) <= {2, 3, 4, 5, 6}
    assert sizes[2] > COUNT / 2
    assert sum(sizes[n] for n in (3, 4, 5, 6)) >= 20
    assert sizes[3] > 0 and sum(sizes[n] for n in (4, 5, 6)) > 0
    # Each set stays within one currency (one legal entity), as the house accounts do.
    assert all(len(totals_by_currency(s.legs)) == 1 for s in sets[1:])


def test_effective_times_fall_within_the_window(sets: list[EntrySet]) -> None:
    start = UNTIL - timedelta(days=round(MONTHS * 30.44))
    times = [leg.effective_at for s in sets for leg in s.legs]
    assert all(t is not None for t in times)
    moments = [t for t in times if t is not None]
    assert all(t.utcoffset() == timedelta(0) for t in moments)
    assert min(moments) == start  # the funding set
    assert all(start <= t < UNTIL for t in moments)
    # The window is a year (to within a couple of days) and sets spread over all of it.
    assert abs((UNTIL - start) - timedelta(days=365)) <= timedelta(days=2)
    later = sorted(t for s in sets[1:] for t in {leg.effective_at for leg in s.legs} if t is not None)
    assert later[-1] > UNTIL - timedelta(days=5)
    assert later[0] < start + timedelta(days=5)
    assert len({bucket_of(t) for t in later}) >= MONTHS
    # All legs of one set share its moment.
    assert all(len({leg.effective_at for leg in s.legs}) == 1 for s in sets)


def test_times_stay_in_a_short_window() -> None:
    until = datetime(2025, 3, 1, 12, tzinfo=UTC)
    sets = generate(seed=3, count=300, until=until, months=1)
    start = until - timedelta(days=30)
    assert all(start <= leg.effective_at < until for s in sets for leg in s.legs if leg.effective_at)


def test_customer_activity_is_skewed(sets: list[EntrySet]) -> None:
    usage = Counter(leg.address for s in sets for leg in s.legs if leg.address.account_id.startswith("cust-"))
    counts = sorted(usage.values())
    assert len(counts) > 100  # many customers take part...
    assert counts[-1] >= 10 * statistics.median(counts)  # ...but a few are far busier than most


def test_house_accounts_are_hot(sets: list[EntrySet]) -> None:
    house = Counter(leg.address for s in sets[1:] for leg in s.legs if leg.address.account_id == "*")
    [(busiest, uses)] = house.most_common(1)
    assert (busiest.legal_entity, busiest.namespace, busiest.name) == (
        "fintech_uk",
        "com.fintech.settlement",
        "card_scheme",
    )
    assert uses > COUNT / 4  # card payments make the settlement partition hot
    assert {a.namespace for a in house} >= {
        "com.fintech.settlement",
        "com.fintech.revenue",
        "com.fintech.expense",
        "com.fintech.utilities",
        "com.fintech.suspense",
    }


@pytest.mark.parametrize(("seed", "count"), [(23, 800), (34, 700), (7, COUNT)])
def test_transfers_go_to_another_customer(seed: int, count: int) -> None:
    # Seeds 23 and 34 (6 months to UNTIL) hit the retry path in the generator's transfer branch.
    for entry_set in generate(seed=seed, count=count, months=6):
        if entry_set.legs[0].description.startswith("Transfer to"):
            debit, credit = entry_set.legs
            assert (debit.side, credit.side) == (Side.DEBIT, Side.CREDIT)
            assert debit.address != credit.address, (
                f"self-transfer {entry_set.transaction_id}: {debit.description}"
            )
