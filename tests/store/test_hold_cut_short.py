"""A hold's outcome whose write was cut short after its claim (rows or heads failed): the retry
that is answered "repeated", or the sweeper a server runs, completes it, so money moves and
reservations go without waiting for a repair that ``serve`` never runs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import StoreUnavailable
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra.limits import CassandraLimits
from ledger_tui.store.cassandra.rows import RowWriter

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])
PREFIX = "test_uk/com.test.customer/current/GBP"
A = parse_address(f"{PREFIX}/acc-a")


def _pay(amount: str, payer: str, payee: str = "bank") -> str:
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())


async def _held(engine: Engine) -> uuid.UUID:
    """acc-a with 100.00 under a limit of 0, and a hold of 60.00 on it."""
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-a"))
    await engine.limits().set(f"{PREFIX}/acc-a", "0", None, "ops")
    hold = parse_entry_set_json(_pay("60.00", payer="acc-a"), engine.currencies)
    placed = await engine.holds().place(hold, expires_in=timedelta(days=1))
    return placed.hold.hold_id


async def _unavailable(self: object, *args: object, **kwargs: object) -> None:
    raise StoreUnavailable("Cassandra did not answer (OperationTimedOut)")


async def _state(engine: Engine) -> tuple[Decimal, Decimal, Decimal, int]:
    closing = (await engine.balance(A))[0].closing
    head = (await engine.limits().heads([A]))[A]
    return closing, head.balance, head.pending_debits, len(await engine.holds().pending_holds())


@pytest.mark.parametrize("finisher", ["retry", "sweep"])
async def test_a_capture_cut_short_after_its_claim_is_completed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, finisher: str
) -> None:
    hold_id = await _held(engine)
    with monkeypatch.context() as failing:
        failing.setattr(RowWriter, "write", _unavailable)
        with pytest.raises(StoreUnavailable):
            await engine.holds().capture(hold_id)
    assert (await _state(engine))[0] == Decimal("100.00"), "the capture's rows were not to land"
    if finisher == "retry":
        assert (await engine.holds().capture(hold_id)).repeated
    else:
        assert await engine.holds().sweep() == 0
    assert await _state(engine) == (Decimal("40.00"), Decimal("40.00"), Decimal(0), 0)
    assert (await engine.verify(repair=False)).ok


async def test_a_void_cut_short_after_its_claim_releases_on_retry(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_id = await _held(engine)
    with monkeypatch.context() as failing:
        failing.setattr(CassandraLimits, "settle", _unavailable)
        with pytest.raises(StoreUnavailable):
            await engine.holds().void(hold_id)
    assert (await _state(engine))[2] == Decimal("60.00"), "the reservation was not to be released"
    assert (await engine.holds().void(hold_id)).repeated
    assert await _state(engine) == (Decimal("100.00"), Decimal("100.00"), Decimal(0), 0)


async def test_a_retried_capture_of_a_completed_hold_reads_no_claim_log(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hold is off the open list once its outcome is complete: nothing to look for."""
    from ledger_tui.store.cassandra.repair import unfinished_row

    hold_id = await _held(engine)
    await engine.holds().capture(hold_id)
    looked: list[uuid.UUID] = []

    async def counted(execute: object, prepare: object, batch_id: uuid.UUID) -> object:
        looked.append(batch_id)
        return await unfinished_row(execute, prepare, batch_id)  # type: ignore[arg-type]

    monkeypatch.setattr("ledger_tui.store.cassandra.holds.unfinished_row", counted)
    assert (await engine.holds().capture(hold_id)).repeated
    assert looked == []
    assert await _state(engine) == (Decimal("40.00"), Decimal("40.00"), Decimal(0), 0)
