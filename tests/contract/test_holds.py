"""Holds: pending money that limits count, one outcome per hold under races (in one process and
across processes, against expiry), partial captures, exact expiry at read time, and as-of."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import ConflictingResubmission, NotFound, ValidationError
from ledger_tui.domain.holds import HoldOutcome, HoldRefused, HoldState
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.domain.model import EntrySet
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.stores import FixedClock, run_cql

PREFIX = "test_uk/com.test.customer/current/GBP"
CUSTOMER = parse_address(f"{PREFIX}/acc-1")


def _set(
    engine: Engine, amount: str, payer: str = "acc-1", payee: str = "shop", txid: uuid.UUID | None = None
) -> EntrySet:
    text = transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=txid or uuid.uuid4())
    return parse_entry_set_json(text, engine.currencies)


async def _closing(engine: Engine, address: str = f"{PREFIX}/acc-1") -> Decimal:
    rows = await engine.balance(parse_address(address))
    return rows[0].closing if rows else Decimal(0)


async def _funded(engine: Engine, amount: str, minimum: str | None = "0") -> None:
    await engine.post(_set(engine, amount, payer="bank", payee="acc-1"))
    if minimum is not None:
        await engine.limits().set(f"{PREFIX}/acc-1", minimum, None, "test")


async def test_a_hold_reduces_what_can_be_spent_until_captured_in_part(engine: Engine) -> None:
    await _funded(engine, "100.00")
    placed = await engine.holds().place(_set(engine, "60.00"), expires_in=timedelta(minutes=15))
    assert (
        not placed.repeated and placed.hold.state_at(placed.hold.transaction.recorded_at) is HoldState.PENDING
    )
    pending = await engine.holds().pending(CUSTOMER)
    assert pending[CUSTOMER].debits == Decimal("60.00") and pending[CUSTOMER].credits == 0
    heads = await engine.limits().heads([CUSTOMER])
    assert heads[CUSTOMER].available == Decimal("40.00") and heads[CUSTOMER].balance == Decimal("100.00")
    with pytest.raises(LimitExceeded) as refused:  # a second hold counts the first one
        await engine.holds().place(_set(engine, "50.00"))
    assert refused.value.available == Decimal("40.00")
    with pytest.raises(LimitExceeded):  # and so does a plain payment
        await engine.post(_set(engine, "40.01"))
    partial = _set(engine, "35.00")
    captured = await engine.holds().capture(placed.hold.hold_id, partial)
    assert captured.hold.outcome is HoldOutcome.CAPTURED and not captured.repeated
    assert await _closing(engine) == Decimal("65.00")  # 35 posted, the other 25 released
    assert await engine.holds().pending(CUSTOMER) == {}
    stored = await engine.transaction(placed.hold.hold_id)  # the capture is recorded under the hold's id
    assert [leg.amount for leg in stored.legs] == [Decimal("35.00")] * 2
    again = await engine.holds().capture(placed.hold.hold_id)  # a retry answers the first capture
    assert again.repeated and again.hold.outcome_at == captured.hold.outcome_at
    with pytest.raises(HoldRefused, match="it was captured at"):
        await engine.holds().void(placed.hold.hold_id)
    reversal = await engine.reverse(placed.hold.hold_id)  # a captured set reverses like any set
    assert reversal.transaction.transaction_id != placed.hold.hold_id
    assert await _closing(engine) == Decimal("100.00")


async def test_a_capture_takes_only_what_was_held_where_it_was_held(engine: Engine) -> None:
    placed = await engine.holds().place(_set(engine, "20.00"))
    with pytest.raises(ValidationError, match=r"more than the 20\.00 held"):
        await engine.holds().capture(placed.hold.hold_id, _set(engine, "20.01"))
    with pytest.raises(ValidationError, match="holds no debit on that account"):
        await engine.holds().capture(placed.hold.hold_id, _set(engine, "5.00", payer="acc-2"))
    hold = await engine.holds().get(placed.hold.hold_id)
    assert hold.outcome is None and await engine.accounts() == []  # the refused captures posted nothing
    with pytest.raises(NotFound):
        await engine.transaction(placed.hold.hold_id)


async def test_ids_of_holds_and_sets_never_mix(engine: Engine) -> None:
    txid = uuid.uuid4()
    first = await engine.holds().place(_set(engine, "5.00", txid=txid))
    retry = await engine.holds().place(_set(engine, "5.00", txid=txid))
    assert retry.repeated and retry.hold.transaction.recorded_at == first.hold.transaction.recorded_at
    with pytest.raises(ConflictingResubmission):
        await engine.holds().place(_set(engine, "6.00", txid=txid))
    with pytest.raises(ConflictingResubmission):  # a held id is settled by capture, never by a post
        await engine.post(_set(engine, "5.00", txid=txid))
    posted = uuid.uuid4()
    await engine.post(_set(engine, "1.00", txid=posted))
    with pytest.raises(ConflictingResubmission):
        await engine.holds().place(_set(engine, "1.00", txid=posted))


async def test_expiry_is_exact_at_read_time_and_refuses_a_late_capture(
    engine: Engine, clock: FixedClock
) -> None:
    await _funded(engine, "10.00")
    placed = await engine.holds().place(_set(engine, "10.00"), expires_in=timedelta(seconds=90))
    placed_at = placed.hold.transaction.recorded_at
    clock.advance(seconds=89)
    assert (await engine.limits().heads([CUSTOMER]))[CUSTOMER].available == Decimal("0.00")
    clock.advance(seconds=1)  # the expiry instant: no longer held, although nobody swept
    assert await engine.holds().pending(CUSTOMER) == {}
    assert (await engine.limits().heads([CUSTOMER]))[CUSTOMER].available == Decimal("10.00")
    assert await engine.holds().pending_holds() == []
    unswept = await engine.holds().place(_set(engine, "1.00", payer="bank"), expires_in=timedelta(seconds=1))
    with pytest.raises(HoldRefused, match="it was expired at"):  # and the refusal records the expiry
        await engine.holds().capture(placed.hold.hold_id)
    hold = await engine.holds().get(placed.hold.hold_id)
    assert hold.outcome is HoldOutcome.EXPIRED and hold.outcome_at == hold.expires_at
    clock.advance(seconds=1)
    assert await engine.holds().sweep() == 1  # the other one, which nobody asked for
    swept = await engine.holds().get(unswept.hold.hold_id)
    assert swept.outcome is HoldOutcome.EXPIRED and swept.outcome_at == swept.expires_at
    assert await engine.holds().sweep() == 0
    as_of = await engine.holds().pending(CUSTOMER, as_of=placed_at + timedelta(seconds=30))
    assert as_of[CUSTOMER].debits == Decimal("10.00")  # what was held then
    assert await engine.holds().pending(CUSTOMER, as_of=placed_at - timedelta(milliseconds=1)) == {}


@pytest.mark.parametrize("bounded", [False, True], ids=["unbounded", "bounded-with-nothing-spare"])
async def test_racing_captures_and_voids_give_each_hold_one_outcome(engine: Engine, bounded: bool) -> None:
    """Bounded, the account holds exactly what the holds hold: a capture racing another settle
    of its hold still answers that hold's outcome, never a limit refusal (what one capture
    reserves while it decides is the hold's own money, which the other may not count twice)."""
    if bounded:
        await _funded(engine, "30.00")
    holds = [(await engine.holds().place(_set(engine, "3.00"))).hold.hold_id for _ in range(10)]
    calls = [engine.holds().capture(h) if k % 2 else engine.holds().void(h) for h in holds for k in range(8)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    for n, hold_id in enumerate(holds):
        answers = results[n * 8 : (n + 1) * 8]
        hold = await engine.holds().get(hold_id)
        assert hold.outcome in (HoldOutcome.CAPTURED, HoldOutcome.VOIDED)
        firsts = [a for a in answers if not isinstance(a, BaseException) and not a.repeated]
        assert len(firsts) == 1 and firsts[0].hold.outcome is hold.outcome
        for answer in answers:
            if isinstance(answer, BaseException):
                assert isinstance(answer, HoldRefused)
            else:
                assert answer.hold.outcome is hold.outcome
        try:
            await engine.transaction(hold_id)
            written = True
        except NotFound:
            written = False
        assert written == (hold.outcome is HoldOutcome.CAPTURED)


def _settle_all(url: str, action: str, hold_ids: list[str], answers: multiprocessing.Queue[str]) -> None:
    async def run() -> None:
        async with open_ledger(LedgerOptions(store=url)) as engine:
            book = engine.holds()
            for text in hold_ids:
                hold_id = uuid.UUID(text)
                try:
                    if action == "sweep":
                        await book.sweep()
                        answers.put("swept")
                        continue
                    receipt = await (book.capture(hold_id) if action == "capture" else book.void(hold_id))
                    answers.put(f"{hold_id} {receipt.hold.outcome} {receipt.repeated}")
                except HoldRefused:
                    answers.put(f"{hold_id} refused")

    asyncio.run(run())


async def test_capture_void_and_expiry_race_from_three_processes(engine: Engine, ledger_url: str) -> None:
    book = engine.holds()
    await _funded(engine, "1000.00", minimum=None)
    async with open_ledger(LedgerOptions(store=ledger_url)) as live:  # the real clock: expiry is real
        ids = [str((await live.holds().place(_set(live, "2.00"), expires_in=timedelta(seconds=1 + n % 3))).hold.hold_id)
               for n in range(24)]  # fmt: skip
    context = multiprocessing.get_context("spawn")
    answers: multiprocessing.Queue[str] = context.Queue()
    workers = [
        context.Process(target=_settle_all, args=(ledger_url, action, order, answers))
        for action, order in (("capture", ids), ("void", ids[::-1]), ("sweep", ids))
    ]
    for worker in workers:
        worker.start()
    said = [answers.get(timeout=120) for _ in range(72)]
    for worker in workers:
        worker.join(timeout=60)
    await asyncio.sleep(3)
    async with open_ledger(LedgerOptions(store=ledger_url)) as live:  # every hold has expired by now
        await live.holds().sweep()
    for text in ids:
        hold = await book.get(uuid.UUID(text))
        assert hold.outcome is not None
        firsts = [line for line in said if line.startswith(text) and line.endswith("False")]
        if hold.outcome is HoldOutcome.EXPIRED:
            assert firsts == []
        else:
            assert len(firsts) == 1 and f" {hold.outcome} " in firsts[0], (hold, firsts)
        try:
            await engine.transaction(uuid.UUID(text))
            written = True
        except NotFound:
            written = False
        assert written == (hold.outcome is HoldOutcome.CAPTURED)


async def test_verify_proves_pending_totals_equal_the_open_holds(engine: Engine, ledger_url: str) -> None:
    await _funded(engine, "50.00")
    kept = await engine.holds().place(_set(engine, "20.00"))
    voided = await engine.holds().place(_set(engine, "10.00"))
    await engine.holds().void(voided.hold.hold_id)
    report = await engine.verify()
    assert report.ok, report.problems
    # A derived row lost (SQLite: the open debit leg; Cassandra: the hold's open-list row): the
    # pending totals no longer add up.
    if ledger_url.startswith("sqlite:"):
        with sqlite3.connect(ledger_url.removeprefix("sqlite:")) as tamper:
            tamper.execute(
                "DELETE FROM open_hold_legs WHERE hold_id = ? AND leg = 0", (str(kept.hold.hold_id),)
            )
    else:
        hold_id = kept.hold.hold_id
        for (shard,) in run_cql(ledger_url, "SELECT shard FROM {ks}.open_holds", ()):
            run_cql(
                ledger_url, "DELETE FROM {ks}.open_holds WHERE shard = %s AND hold_id = %s", (shard, hold_id)
            )
    report = await engine.verify()
    assert not report.ok
    found = [p for p in report.problems if p.startswith(f"pending on {PREFIX}/acc-1: 0 dr")]
    assert len(found) == 1 and "add up to 20.00 dr" in found[0], report.problems


async def test_the_change_feed_tells_each_hold_event_once_in_commit_order(
    engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cassandra tells a write once it has settled (writes still in flight may end before it):
    # locally, a second is plenty.
    monkeypatch.setattr("ledger_tui.store.cassandra.changes.SETTLE", timedelta(seconds=1))
    book = engine.holds()
    voided = (await book.place(_set(engine, "1.00"), expires_in=timedelta(minutes=5))).hold.hold_id
    await book.void(voided)
    captured = (await book.place(_set(engine, "2.00"), expires_in=timedelta(minutes=5))).hold.hold_id
    await book.capture(captured, _set(engine, "1.50"))
    lapsing = (await book.place(_set(engine, "3.00"), expires_in=timedelta(seconds=30))).hold.hold_id
    clock.advance(seconds=31)
    await book.sweep()
    await asyncio.sleep(1.2)
    feed = engine.changes()
    page = await feed.page(await feed.start("beginning"), 100)
    told = [(c.kind.value, c.transaction.transaction_id) for c in page.changes]
    assert told == [
        ("hold.placed", voided), ("hold.voided", voided),
        ("hold.placed", captured), ("entry_set.recorded", captured),
        ("hold.placed", lapsing), ("hold.expired", lapsing),
    ]  # fmt: skip
    assert len({c.event_id for c in page.changes}) == 6
    events = [c.to_json() for c in page.changes]
    assert events[1]["outcome_at"] and events[0]["expires_at"] and "outcome_at" not in events[0]
    assert [str(e.amount) for e in page.changes[3].transaction.entries()] == ["1.50", "1.50"]  # posted
    assert [str(e.amount) for e in page.changes[2].transaction.entries()] == ["2.00", "2.00"]  # held
    assert events[5]["outcome_at"] == events[5]["expires_at"]
    again = await feed.page(await feed.start("beginning"), 100)
    assert [c.event_id for c in again.changes] == [c.event_id for c in page.changes]


async def test_the_trial_balance_shows_what_is_held_now_and_what_was_held_then(
    engine: Engine, clock: FixedClock
) -> None:
    await _funded(engine, "100.00", minimum=None)
    first = await engine.holds().place(_set(engine, "30.00"), expires_in=timedelta(minutes=10))
    clock.advance(seconds=1)
    before_second = clock()
    clock.advance(seconds=1)
    await engine.holds().place(_set(engine, "20.00", payee="cafe"), expires_in=timedelta(minutes=10))
    clock.advance(seconds=1)
    await engine.holds().capture(first.hold.hold_id)
    now = await engine.trial_balance()
    lines = {line.label: line for line in now.lines(5)}
    held = await engine.holds().pending()  # the slow, obvious path: a fold of the open holds
    assert {a: (lines[str(a)].pending_debits, lines[str(a)].pending_credits) for a in held} == {
        a: (p.debits, p.credits) for a, p in held.items()
    }
    assert lines[f"{PREFIX}/acc-1"].available == Decimal("50.00")  # 100 - 30 captured - 20 held
    assert lines[f"{PREFIX}/cafe"].closing == 0 and lines[f"{PREFIX}/cafe"].pending_credits == Decimal(
        "20.00"
    )
    then = {line.label: line for line in (await engine.trial_balance(as_of=before_second)).lines(5)}
    assert then[f"{PREFIX}/acc-1"].pending_debits == Decimal("30.00") and f"{PREFIX}/cafe" not in then
    assert now.unbalanced() == [] and (await engine.trial_balance(as_of=before_second)).held


async def test_a_limit_set_after_a_hold_counts_it(engine: Engine) -> None:
    await _funded(engine, "100.00", minimum=None)
    placed = await engine.holds().place(_set(engine, "60.00"), expires_in=timedelta(minutes=15))
    await engine.limits().set(f"{PREFIX}/acc-1", "0", None, "test")  # the account's head starts now
    with pytest.raises(LimitExceeded) as refused:
        await engine.post(_set(engine, "50.00"))
    assert refused.value.available == Decimal("40.00")
    assert (await engine.limits().heads([CUSTOMER]))[CUSTOMER].available == Decimal("40.00")
    await engine.holds().void(placed.hold.hold_id)  # released at the head made after it
    await engine.post(_set(engine, "50.00"))
    assert await _closing(engine) == Decimal("50.00")
