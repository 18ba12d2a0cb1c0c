"""Holds under concurrent writers, on both stores: rounds of racing posts, holds, captures (whole
and partial), voids and sweeps, with the clock moving (holds lapse) and limits changing between
rounds, never take a bounded account below its minimum at any instant (as-of reads too), and
give the same balances, pending totals and hold outcomes as a sequential replay of the change
feed on a fresh embedded ledger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.changes import Change, ChangeType
from ledger_tui.domain.errors import LedgerError
from ledger_tui.domain.holds import HoldState
from ledger_tui.domain.model import EntrySet
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.stores import FixedClock, on_fresh_ledger

PREFIX = "test_uk/com.test.customer/current/GBP"
BOUNDED = ["acc-1", "acc-2"]
EVERY = [*BOUNDED, "shop", "bank"]
#: Examples per store (a node's keyspace per example costs seconds).
EXAMPLES = {"sqlite": 25, "cassandra": 6}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

#: Amounts in cents: round sums that meet the bounds exactly, and any cents.
cents = st.one_of(st.sampled_from([1000, 2500, 4000, 6000]), st.integers(1, 6000))
op = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(BOUNDED), cents),
    st.tuples(st.just("hold"), st.sampled_from(BOUNDED), cents, st.sampled_from([30, 90, 600])),
    st.tuples(st.just("hold"), st.sampled_from(BOUNDED), cents, st.just(600)),
    st.tuples(st.just("capture"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("sweep")),
)
rounds = st.lists(
    st.fixed_dictionaries(
        {
            "advance": st.sampled_from([0, 20, 60, 120]),
            "minimum": st.sampled_from([None, "0", "-30"]),
            "fund": st.one_of(st.none(), st.tuples(st.sampled_from(BOUNDED), st.integers(1, 80))),
            "ops": st.lists(op, min_size=3, max_size=8),
        }
    ),
    min_size=2,
    max_size=4,
)
plans = st.fixed_dictionaries(
    {
        "funds": st.lists(st.sampled_from([40, 100, 150]), min_size=2, max_size=2),
        "minimum": st.sampled_from(["0", "-30"]),
        "rounds": rounds,
    }
)


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cassandra tells a write once it has settled: locally a second is plenty."""
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))


def test_racing_holds_keep_bounds_and_replay_sequentially(store_kind: str, tmp_path: Path) -> None:
    @settings(max_examples=EXAMPLES[store_kind], deadline=None, suppress_health_check=list(HealthCheck))
    @given(plan=plans)
    def check(plan: dict[str, object]) -> None:
        on_fresh_ledger(store_kind, tmp_path, lambda url: _run(url, plan, tmp_path))

    check()


def _set(engine: Engine, cents: int, payer: str, payee: str) -> EntrySet:
    amount = f"{cents // 100}.{cents % 100:02d}"
    return parse_entry_set_json(transfer(amount, 1727347200000, debit=payer, credit=payee), engine.currencies)


async def _available(engine: Engine, account: str, as_of: datetime | None = None) -> Decimal:
    address = parse_address(f"{PREFIX}/{account}")
    rows = await engine.balance(address, as_of=as_of)
    closing = rows[0].closing if rows else Decimal(0)
    pending = (await engine.holds().pending(address, as_of=as_of)).get(address)
    return closing - (pending.debits if pending else 0)


async def _set_minimum(engine: Engine, minimum: str) -> None:
    for account in BOUNDED:
        await engine.limits().set(f"{PREFIX}/{account}", minimum, None, "property")


async def _run(url: str, plan: dict[str, Any], tmp_path: Path) -> None:
    clock = FixedClock(START)
    minima: list[tuple[datetime, Decimal]] = []  # (from, minimum) as the limits changed
    async with open_ledger(LedgerOptions(store=url, clock=clock)) as engine:
        await engine.apply_schema()
        funds: list[int] = plan["funds"]
        for account, whole in zip(BOUNDED, funds, strict=True):
            if whole:
                await engine.post(_set(engine, whole * 100, "bank", account))
        await _set_minimum(engine, str(plan["minimum"]))
        minima.append((clock.now, Decimal(str(plan["minimum"]))))
        holds: list[tuple[object, int]] = []  # (hold id, held cents)
        instants: list[datetime] = []
        for step in plan["rounds"]:
            clock.advance(seconds=step["advance"] + 1)
            wanted = step["minimum"]
            if wanted is not None and all(
                [await _available(engine, a) >= Decimal(wanted) for a in BOUNDED]
            ):  # a bound is only ever set where the account meets it
                await _set_minimum(engine, wanted)
                minima.append((clock.now, Decimal(wanted)))
            if step["fund"] is not None:
                account, whole = step["fund"]
                await engine.post(_set(engine, whole * 100, "bank", account))
            earlier = list(holds)  # captured and voided: the holds of earlier rounds

            async def one(action: tuple[Any, ...], earlier: list[tuple[Any, int]] = earlier) -> None:
                kind = action[0]
                try:
                    if kind == "pay":
                        await engine.post(_set(engine, int(action[2]), str(action[1]), "shop"))
                    elif kind == "hold":
                        entry_set = _set(engine, int(action[2]), str(action[1]), "shop")
                        placed = await engine.holds().place(
                            entry_set, expires_in=timedelta(seconds=int(action[3]))
                        )
                        holds.append((placed.hold.hold_id, int(action[2])))
                    elif kind in ("capture", "void") and earlier:
                        hold_id, cents = earlier[int(action[1]) % len(earlier)]
                        if kind == "void":
                            await engine.holds().void(hold_id)
                        elif action[2]:  # part of it, on the same accounts
                            hold = await engine.holds().get(hold_id)
                            payer = hold.transaction.legs[0].address.account_id
                            part = _set(engine, max(1, cents // 2), payer, "shop")
                            await engine.holds().capture(hold_id, part)
                        else:
                            await engine.holds().capture(hold_id)
                    elif kind == "sweep":
                        await engine.holds().sweep()
                except LedgerError:
                    pass  # refused (a bound, another outcome, an expiry): checked by what follows

            await asyncio.gather(*(one(action) for action in step["ops"]))
            instants.append(clock.now)
            floor = minima[-1][1]
            for account in BOUNDED:  # at no instant below the bound (holds counted)
                assert await _available(engine, account) >= floor, (account, step)
        for instant in instants:  # and as the ledger showed it then
            floor = [m for since, m in minima if since <= instant][-1]
            for account in BOUNDED:
                assert await _available(engine, account, as_of=instant) >= floor, (account, instant)
        report = await engine.verify()
        assert report.ok, report.problems
        clock.advance(seconds=1)
        final = clock.now
        if not url.startswith("sqlite:"):
            await asyncio.sleep(1.2)  # past the settle time of the last writes (Cassandra's feed)
        changes = await _feed(engine)
        mine = await _state(engine, final)
    replayed = await _replay(changes, minima, final, tmp_path)
    assert replayed == mine


async def _feed(engine: Engine) -> list[Change]:
    feed = engine.changes()
    cursor = await feed.start("beginning")
    found: list[Change] = []
    while True:
        page = await feed.page(cursor, 500)
        found += page.changes
        cursor = page.cursor
        if not page.more:
            return found


async def _state(engine: Engine, now: datetime) -> dict[str, object]:
    """Balances, pending totals and every hold's state at ``now``."""
    balances = {}
    for account in EVERY:
        rows = await engine.balance(parse_address(f"{PREFIX}/{account}"))
        balances[account] = rows[0].closing if rows else Decimal(0)
    pending = {
        str(a): (p.debits, p.credits)
        for a, p in (await engine.holds().pending()).items()
        if p.debits or p.credits
    }
    states = {
        str(h.hold_id): (h.state_at(now) or HoldState.PENDING).value for h in await engine.holds().all_holds()
    }
    return {"balances": balances, "pending": pending, "holds": states}


async def _replay(
    changes: list[Change], minima: list[tuple[datetime, Decimal]], final: datetime, tmp_path: Path
) -> dict[str, object]:
    """Apply the feed one event at a time to a fresh embedded ledger (releases first at each
    instant: any order of a round's accepted debits fits once its releases are in), with the
    limits changed at the same instants; every event must be accepted there too."""
    held = {c.transaction.transaction_id for c in changes if c.kind is ChangeType.HOLD_PLACED}

    def key(change: Change) -> tuple[datetime, int]:
        if change.kind in (ChangeType.HOLD_VOIDED, ChangeType.HOLD_EXPIRED):
            assert change.hold is not None and change.hold.outcome_at is not None
            return change.hold.outcome_at, 1
        capture = change.kind is ChangeType.RECORDED and change.transaction.transaction_id in held
        return change.transaction.recorded_at, 1 if capture else 2

    steps: list[tuple[tuple[datetime, int], object]] = [(key(c), c) for c in changes]
    steps += [((since, 0), minimum) for since, minimum in minima]
    steps.sort(key=lambda item: item[0])
    clock = FixedClock(START)
    folder = tmp_path / f"replay-{uuid.uuid4().hex}"
    folder.mkdir()
    async with open_ledger(LedgerOptions(store=f"sqlite:{folder / 'replay.sqlite'}", clock=clock)) as model:
        await model.apply_schema()
        for (instant, _rank), item in steps:
            clock.now = instant
            if isinstance(item, Decimal):
                await _set_minimum(model, str(item))
                continue
            change = item
            assert isinstance(change, Change)
            txid, legs = change.transaction.transaction_id, change.transaction.legs
            if change.kind is ChangeType.HOLD_PLACED:
                assert change.hold is not None
                await model.holds().place(EntrySet(txid, legs), expires_at=change.hold.expires_at)
            elif change.kind is ChangeType.HOLD_VOIDED:
                await model.holds().void(txid)
            elif change.kind is ChangeType.HOLD_EXPIRED:
                continue  # lapses by the clock alone
            elif txid in held:
                await model.holds().capture(txid, EntrySet(txid, legs))
            else:
                await model.post(EntrySet(txid, legs))
        clock.now = final
        return await _state(model, final)
