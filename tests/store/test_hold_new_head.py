"""A hold placed before its account was bounded counts at the head the first bounded write makes,
unless it got an outcome meanwhile: a void landing between the read of the open holds and the
head's creation released at no head, and the creation brought the reservation back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra.limits import CassandraLimits

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])
PREFIX = "test_uk/com.test.customer/current/GBP"
A = parse_address(f"{PREFIX}/acc-a")


def _pay(amount: str, payer: str, payee: str = "bank") -> str:
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())


@pytest.mark.parametrize("voided", [True, False], ids=["voided-meanwhile", "still-open"])
async def test_a_head_made_while_a_hold_is_voided_does_not_count_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, voided: bool
) -> None:
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-a"))
    hold = parse_entry_set_json(_pay("60.00", payer="acc-a"), engine.currencies)
    placed = await engine.holds().place(hold, expires_in=timedelta(days=7))
    await engine.limits().set(f"{PREFIX}/acc-a", "0", None, "ops")
    limits: CassandraLimits = engine._store._limits  # type: ignore[attr-defined]
    read_open_holds = limits.held_at
    calls = 0

    async def then_voided(account: object) -> object:
        nonlocal calls
        found = await read_open_holds(account)  # type: ignore[arg-type]
        calls += 1
        if voided and calls == 1:
            await engine.holds().void(placed.hold.hold_id)  # another process's void, in between
        return found

    monkeypatch.setattr(limits, "held_at", then_voided)
    await engine.post_json(_pay("30.00", payer="acc-a"))  # makes acc-a's head
    head = (await engine.limits().heads([A]))[A]
    assert calls >= 1, "the head was not made by the post"
    available = head.balance - head.pending_debits  # the post's own 30.00 may be pending still
    assert available == (Decimal("70.00") if voided else Decimal("10.00")), head
