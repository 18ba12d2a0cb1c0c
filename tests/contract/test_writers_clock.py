"""The writers'-clock assumption of balance blocks, tested at its edge (docs/balance-blocks.md).

A seal run at ``now`` relies on every write stamped ``recorded_at < cutoff = now - margin`` being
readable. A write stamped just before the cutoff that lands after the seal breaks that: `verify`
must name the block by account and day, and ``seal --rebuild`` must make the fast balance exact
again. A write stamped at the cutoff or later is a late entry: counted at once, no rebuild.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.blocks import day_of, day_start, node_key
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine
from ledger_tui.store.base import Store

from ..support.stores import FixedClock

EFFECTIVE = datetime(2024, 5, 6, 10, tzinfo=UTC)
MARGIN = timedelta(seconds=60)
HORIZON = timedelta(days=1)
#: The earliest cutoff that seals EFFECTIVE's day: the day's end plus the horizon.
EARLIEST_CUTOFF = day_start(day_of(EFFECTIVE) + 1) + HORIZON
MS = timedelta(milliseconds=1)


def account(name: str) -> Address:
    return Address("le_clock", "com.test", "current", "GBP", name)


async def post(engine: Engine, amount: str) -> None:
    """Move ``amount`` from b to a, effective on EFFECTIVE's day."""
    legs = [
        Leg(account("a"), Side.DEBIT, Decimal(amount), "", EFFECTIVE),
        Leg(account("b"), Side.CREDIT, Decimal(amount), "", EFFECTIVE),
    ]
    await engine.post(build_entry_set(uuid.uuid4(), legs))


async def fast_and_full(engine: Engine, name: str) -> tuple[Decimal, Decimal]:
    """The closing balance (credits less debits) of one account over all time: with blocks, and as the full fold."""
    fast = await engine.balance(account(name), TimeRange())
    full = await engine.full_fold().balance(account(name), TimeRange())
    return fast[0].closing, full[0].closing


async def sealed_ledger(store: Store, seal_late_by: timedelta) -> tuple[Engine, FixedClock, datetime]:
    """A ledger with one on-time entry, sealed at ``EARLIEST_CUTOFF + seal_late_by``: returns the
    sealer's engine, its clock and the seal's cutoff."""
    clock = FixedClock(EFFECTIVE + timedelta(minutes=5))
    engine = Engine(store, clock=clock, seal_horizon=HORIZON, seal_margin=MARGIN)
    await engine.apply_schema()
    await post(engine, "10.00")
    clock.now = EARLIEST_CUTOFF + seal_late_by + MARGIN
    report = await engine.seal()
    assert report.cutoff == EARLIEST_CUTOFF + seal_late_by
    assert report.sealed_through == day_of(EFFECTIVE) + 1  # the day is sealed, with a block
    return engine, clock, report.cutoff


def writer(store: Store, stamp: datetime) -> Engine:
    """Another writer whose post is stamped ``stamp`` (its clock, or a write delayed in flight)."""
    return Engine(store, clock=FixedClock(stamp), seal_horizon=HORIZON, seal_margin=MARGIN)


@pytest.mark.parametrize(
    "seal_late_by",
    [
        pytest.param(timedelta(0), id="stamped-before-the-horizon-not-late"),
        pytest.param(timedelta(hours=1), id="stamped-after-the-horizon-late-mark-below-cutoff"),
    ],
)
async def test_a_write_stamped_just_before_the_cutoff_landing_after_the_seal_is_found_and_rebuilt(
    store: Store, seal_late_by: timedelta
) -> None:
    engine, clock, cutoff = await sealed_ledger(store, seal_late_by)
    # Stamped 1 ms before the cutoff but readable only now: the assumption is broken.
    await post(writer(store, cutoff - MS), "2.50")
    fast, full = await fast_and_full(engine, "a")
    assert (fast, full) == (Decimal("-10.00"), Decimal("-12.50"))  # the block missed it

    report = await engine.verify()
    assert not report.ok
    date = EFFECTIVE.date().isoformat()
    for name in ("a", "b"):
        node = node_key(account(name).as_tuple())
        assert any(p.startswith(f"block {node} {date}: stored") for p in report.problems), report.problems
    assert all("seal --rebuild" in p for p in report.problems if p.startswith("block "))

    clock.advance(minutes=5)
    await engine.seal(rebuild=True)
    assert await fast_and_full(engine, "a") == (Decimal("-12.50"), Decimal("-12.50"))
    assert await fast_and_full(engine, "b") == (Decimal("12.50"), Decimal("12.50"))
    assert (await engine.verify()).ok


@pytest.mark.parametrize(
    "after", [pytest.param(timedelta(0), id="at-the-cutoff"), pytest.param(MS, id="1ms-after")]
)
async def test_a_write_stamped_at_or_after_the_cutoff_is_late_and_counted_without_rebuild(
    store: Store, after: timedelta
) -> None:
    engine, clock, cutoff = await sealed_ledger(store, timedelta(0))
    await post(writer(store, cutoff + after), "2.50")
    assert await fast_and_full(engine, "a") == (Decimal("-12.50"), Decimal("-12.50"))
    assert (await engine.verify()).ok
    clock.advance(hours=1)
    await engine.seal()  # an ordinary run re-seals the day the late entry made stale
    assert await fast_and_full(engine, "a") == (Decimal("-12.50"), Decimal("-12.50"))
    assert await fast_and_full(engine, "b") == (Decimal("12.50"), Decimal("12.50"))
    assert (await engine.verify()).ok
