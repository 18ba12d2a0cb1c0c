"""The trial balance equals a full fold of every account's entries, on both stores, whether its
days come from balance blocks or are read live, at the account level and at every grouped level."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.balance import BalanceFold
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.domain.trial_balance import TrialBalance, TrialLine
from ledger_tui.engine import Engine

from ..support.stores import FixedClock

ACCOUNTS = [
    Address(le, ns, name, cur, acct)
    for le, cur in (("bank_uk", "GBP"), ("bank_eu", "EUR"))
    for ns, name in (("com.bank.customer", "current"), ("com.bank.revenue", "fees"))
    for acct in ("a", "b", "c")
]
RANGES = [
    TimeRange(),
    TimeRange(datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC)),
    TimeRange(datetime(2024, 9, 17, 13, tzinfo=UTC), None),
    TimeRange(None, datetime(2024, 10, 20, 6, 30, tzinfo=UTC)),
]


async def _post_random(engine: Engine, clock: FixedClock, rng: random.Random, count: int) -> None:
    """``count`` two-leg sets within one currency, back-dated up to 60 days from the clock."""
    for _ in range(count):
        currency = rng.choice(["GBP", "EUR"])
        debit, credit = rng.sample([a for a in ACCOUNTS if a.currency == currency], 2)
        amount = Decimal(rng.randint(1, 10**6)).scaleb(-2)
        when = clock.now - timedelta(hours=rng.randint(0, 24 * 60))
        legs = [Leg(debit, Side.DEBIT, amount, "t", when), Leg(credit, Side.CREDIT, amount, "t", when)]
        await engine.post(build_entry_set(uuid.UUID(int=rng.getrandbits(128)), legs))
        clock.advance(hours=rng.randint(0, 30))


async def _full_fold(engine: Engine, time_range: TimeRange) -> dict[tuple[str, ...], TrialLine]:
    """The slow, obvious trial balance: every entry of every account, folded one by one."""
    lines: dict[tuple[str, ...], TrialLine] = {}
    for address in await engine.accounts():
        fold = BalanceFold(time_range.start, time_range.end)
        async for chunk in engine.iter_entries(address):
            for entry in chunk:
                fold.add(address.currency, entry.side, entry.amount, entry.effective_at)
        for row in fold.result():
            path = address.as_tuple()
            lines[path] = TrialLine(path, row.currency, row.opening, row.debits, row.credits, row.count)
    return lines


def _grouped(
    lines: dict[tuple[str, ...], TrialLine], depth: int
) -> dict[tuple[tuple[str, ...], str], tuple[Decimal, ...]]:
    sums: dict[tuple[tuple[str, ...], str], list[Decimal]] = {}
    for line in lines.values():
        total = sums.setdefault((line.path[:depth], line.currency), [Decimal(0)] * 4)
        for index, value in enumerate((line.opening, line.debits, line.credits, Decimal(line.count))):
            total[index] += value
    return {key: tuple(values) for key, values in sums.items()}


def _as_grouped(balance: TrialBalance, depth: int) -> dict[tuple[tuple[str, ...], str], tuple[Decimal, ...]]:
    return {
        (line.path, line.currency): (line.opening, line.debits, line.credits, Decimal(line.count))
        for line in balance.lines(depth)
    }


@pytest.mark.parametrize("seed", [1, 2])
async def test_trial_balance_equals_a_full_fold_with_and_without_blocks(
    make_engine: Callable[..., Engine], clock: FixedClock, seed: int
) -> None:
    engine = make_engine(seal_margin=timedelta(0))
    rng = random.Random(seed)
    clock.now = datetime(2024, 10, 25, 12, tzinfo=UTC)
    await _post_random(engine, clock, rng, 25)
    for sealed in (False, True):
        if sealed:
            await engine.seal()
            await _post_random(engine, clock, rng, 10)  # late and fresh entries after the seal
        for time_range in RANGES:
            expected = await _full_fold(engine, time_range)
            accounts = await engine.trial_balance(time_range)
            rollups = await engine.trial_balance(time_range, per_account=False)
            assert {line.path: line for line in accounts.lines(5)} == expected
            for depth in range(1, 5):
                assert _as_grouped(accounts, depth) == _grouped(expected, depth)
                assert _as_grouped(rollups, depth) == _grouped(expected, depth)
            for total in accounts.totals():  # double entry: the books balance in every currency
                assert total.debits == total.credits
                assert total.opening == 0 and total.closing == 0
            assert accounts.unbalanced() == []


async def test_as_of_shows_what_the_ledger_showed_then(engine: Engine, clock: FixedClock) -> None:
    rng = random.Random(7)
    await _post_random(engine, clock, rng, 6)
    before = clock.now
    clock.advance(hours=1)
    await _post_random(engine, clock, rng, 6)
    then = await engine.trial_balance(as_of=before)
    now = await engine.trial_balance()
    assert sum(t.count for t in then.totals()) == 12  # 6 sets of two legs
    assert sum(t.count for t in now.totals()) == 24


async def test_an_empty_ledger_has_an_empty_trial_balance(engine: Engine) -> None:
    balance = await engine.trial_balance()
    assert balance.lines(5) == [] and balance.totals() == [] and balance.unbalanced() == []
