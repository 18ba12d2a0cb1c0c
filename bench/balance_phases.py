"""The phases of bench/balance.py, each run in a process of its own so its peak RSS is its own.

- ``fill``: one hot account with N entries over 24 whole months (each day's entries recorded one
  hour after the day ends, as a live system would; entry sets of 199 legs on the account against
  one counter-account leg, through ``Engine.record_batch``), sealed once per month as a nightly
  seal would (a private ledger with one writer: margin 0, clock one day after month end).
- ``fill-named``: 10,000 customer accounts (3 entries each, same per-day recording), sealed once.
- ``measure``: one read, repeated; prints the latencies, an answer digest and ``ru_maxrss``.
- ``verify``: ``Engine.verify()`` of a ledger.
Every phase prints one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import resource
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger_tui.domain.address import AddressPattern
from ledger_tui.domain.model import Address, EntrySet, Leg, Side
from ledger_tui.domain.named import NamedBalance
from ledger_tui.domain.parse import MAX_LEGS, build_entry_set
from ledger_tui.domain.timeutil import Granularity, TimeRange
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.base import Store
from ledger_tui.store.url import parse_store_url

HOT = Address("bench_uk", "com.bench.treasury", "settlement", "GBP", "hot")
COUNTER = Address("bench_uk", "com.bench.treasury", "funding", "GBP", "counter")
CUSTOMERS = ("bench_uk", "com.bench.customer", "current", "GBP")
NAMED = NamedBalance("customers", "every customer account", (AddressPattern(*CUSTOMERS, "*"),))
NAMED_ACCOUNTS = 10_000
NAMED_ENTRIES_EACH = 3
MONTHS = 24
DAY = timedelta(days=1)
RECORDED_AFTER_DAY = timedelta(hours=1)


def month_start(index: int) -> datetime:
    """First instant of month ``index`` (0 = the first of the 24, 24 = the end of the data)."""
    first = until() - timedelta(days=1)
    base_year, base_month = first.year, first.month - MONTHS + 1
    absolute = base_year * 12 + base_month - 1 + index
    return datetime(absolute // 12, absolute % 12 + 1, 1, tzinfo=UTC)


def until() -> datetime:
    """End of the data: the start of the month three days ago (so every day is sealable now)."""
    ago = datetime.now(UTC) - timedelta(days=3)
    return datetime(ago.year, ago.month, 1, tzinfo=UTC)


def seal_time(month: int) -> datetime:
    """When month ``month`` was sealed: one day after it ended (the nightly run)."""
    return month_start(month + 1) + DAY


def reads(engine: Engine, store: Store) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The measured reads, by name (the last: one store round trip, the floor under the others)."""
    start, end = month_start(0), month_start(MONTHS)
    half = month_start(12)
    mid_from = month_start(3) + timedelta(days=14, hours=12)
    mid_to = month_start(21) + timedelta(days=14, hours=12)
    as_of = seal_time(11) + timedelta(hours=1)
    engine.named_balances = {NAMED.name: NAMED}
    return {
        "balance 24 months": lambda: engine.balance(HOT, TimeRange(start, end)),
        "balance last month": lambda: engine.balance(HOT, TimeRange(month_start(MONTHS - 1), end)),
        "balance mid-month to mid-month": lambda: engine.balance(HOT, TimeRange(mid_from, mid_to)),
        "as-of balance (12 months)": lambda: engine.balance(HOT, TimeRange(start, half), as_of),
        "as-of balance (24 months)": lambda: engine.balance(HOT, TimeRange(start, end), as_of),
        "chart, daily points": lambda: engine.balance_series(HOT, TimeRange(start, end), Granularity.DAY),
        "named balance": lambda: engine.balance(NAMED.name, TimeRange(start, end)),
        "one round trip": lambda: store.read_seal_state('["no such node"]'),
    }


class Clock:
    """The fill's clock: each write and seal sets the recorded time it stands for."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def day_sets(day: datetime, legs_of_day: list[Leg], serial: Iterator[int]) -> list[EntrySet]:
    """The day's legs in sets of ``MAX_LEGS - 1`` legs, each balanced by one counter leg."""
    sets = []
    for offset in range(0, len(legs_of_day), MAX_LEGS - 1):
        chunk = legs_of_day[offset : offset + MAX_LEGS - 1]
        debits = sum((leg.amount for leg in chunk if leg.side is Side.DEBIT), Decimal("0.00"))
        credits = sum((leg.amount for leg in chunk if leg.side is Side.CREDIT), Decimal("0.00"))
        side = Side.CREDIT if debits >= credits else Side.DEBIT
        net = abs(debits - credits)
        if not net:  # a zero leg is not allowed: tip the balance with one more cent each way
            chunk = [*chunk, Leg(chunk[0].address, Side.DEBIT, Decimal("0.01"), "", day)]
            side, net = Side.CREDIT, Decimal("0.01")
        legs = [*chunk, Leg(COUNTER, side, net, "funding", day)]
        sets.append(build_entry_set(uuid.UUID(int=next(serial), version=4), legs))
    return sets


def legs_per_day(entries: int, accounts: list[Address]) -> dict[int, list[Leg]]:
    """``entries`` legs spread evenly over the 24 months, round-robin over ``accounts``."""
    start = month_start(0)
    days = (month_start(MONTHS) - start).days
    result: dict[int, list[Leg]] = {}
    for index in range(entries):
        spot = index * days * 86_400 // entries
        when = start + timedelta(seconds=spot)
        amount = Decimal(index * 7919 % 100_000 + 1).scaleb(-2)
        side = Side.DEBIT if index % 3 else Side.CREDIT
        leg = Leg(accounts[index % len(accounts)], side, amount, "bench", when)
        result.setdefault(spot // 86_400, []).append(leg)
    return result


async def fill(
    engine: Engine, clock: Clock, legs: dict[int, list[Leg]], seal_monthly: bool
) -> dict[str, Any]:
    """Write every day's sets recorded an hour after the day, sealing each month after it ends."""
    serial = iter(range(1, 10**12))
    start = month_start(0)
    written, write_seconds, seal_seconds = 0, 0.0, 0.0
    slots = asyncio.Semaphore(16)

    async def write_day(day: int) -> None:
        nonlocal written
        when = start + day * DAY
        sets = day_sets(when, legs[day], serial)
        async with slots:
            clock.now = when + DAY + RECORDED_AFTER_DAY
            outcomes = await engine.record_batch(sets)  # reads the clock before its first await
        assert all(o.transaction.recorded_at == when + DAY + RECORDED_AFTER_DAY for o in outcomes)
        written += sum(len(s.legs) for s in sets)

    for month in range(MONTHS):
        first, last = ((month_start(m) - start).days for m in (month, month + 1))
        began = time.perf_counter()
        await asyncio.gather(*(write_day(day) for day in range(first, last) if day in legs))
        write_seconds += time.perf_counter() - began
        if seal_monthly or month == MONTHS - 1:
            began = time.perf_counter()
            clock.now = seal_time(month)
            await engine.seal()
            seal_seconds += time.perf_counter() - began
    return {"entries": written, "write_seconds": write_seconds, "seal_seconds": seal_seconds}


def digest(answer: Any) -> str:
    """A short fingerprint of an answer (blocks and full fold must agree to the last digit)."""
    return hashlib.sha256(repr(answer).encode()).hexdigest()[:16]


def peak_rss_mb() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_phase(args: Any) -> dict[str, Any]:
    """Run one phase against ``args.url`` and return what it measured."""
    clock = Clock()
    store = open_store(parse_store_url(args.url))
    await store.connect()
    engine = Engine(store, clock=clock, seal_margin=timedelta(0))
    try:
        if args.phase in ("fill", "fill-named"):
            await engine.apply_schema()
            if args.phase == "fill":
                legs = legs_per_day(args.entries, [HOT])
            else:
                names = [Address(*CUSTOMERS, f"c{i:05d}") for i in range(NAMED_ACCOUNTS)]
                legs = legs_per_day(NAMED_ACCOUNTS * NAMED_ENTRIES_EACH, names)
            result = await fill(engine, clock, legs, seal_monthly=args.phase == "fill")
        elif args.phase == "verify":
            began = time.perf_counter()
            report = await engine.verify()
            seconds = time.perf_counter() - began
            result = {"seconds": seconds, "ok": report.ok, "problems": report.problems[:5]}
        elif args.phase == "idle":
            await engine.balance(HOT, TimeRange(month_start(0), month_start(1)))
            result = {}
        else:
            clock.now = datetime.now(UTC)
            reader = engine.full_fold() if args.mode == "full" else engine
            read = reads(reader, store)[args.measure]
            answer = await read()  # warm-up (also the answer compared between the modes)
            samples: list[float] = []
            cpu_samples: list[float] = []  # this process's CPU: what contention does not inflate
            budget = args.budget
            began = time.perf_counter()
            while len(samples) < args.reps and (len(samples) < 3 or time.perf_counter() - began < budget):
                tick, cpu = time.perf_counter(), time.process_time()
                again = await read()
                samples.append(time.perf_counter() - tick)
                cpu_samples.append(time.process_time() - cpu)
                assert again == answer
            points = len(answer) if args.measure.startswith("chart") else None
            result = {"samples": samples, "cpu": cpu_samples, "digest": digest(answer), "points": points}
    finally:
        await store.close()
    result["rss_mb"] = peak_rss_mb()
    return result


def main(args: Any) -> None:
    """Run the phase ``args`` name and print its JSON line."""
    print(json.dumps(asyncio.run(run_phase(args))), flush=True)
