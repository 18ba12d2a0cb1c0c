"""Limits on Cassandra across crashes: a write killed after its claim leaves its reservations
pending until repair posts them; one killed before its claim leaves them until repair may release
them; and a limit changed under a running writer is met by the fence, not by luck."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import LedgerError, StoreUnavailable
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger
from ledger_tui.store.cassandra.queues import ClaimQueues
from ledger_tui.store.cassandra.writes import ClaimWriter

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])
PREFIX = "test_uk/com.test.customer/current/GBP"
CUSTOMER_TEXT = f"{PREFIX}/acc-1"
CUSTOMER = parse_address(CUSTOMER_TEXT)


def _pay(amount: str, payer: str = "acc-1", payee: str = "bank") -> str:
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())


async def _funded(engine: Engine) -> None:
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-1"))
    await engine.limits().set(CUSTOMER_TEXT, "0", None, "test")


async def test_a_write_killed_after_its_claim_keeps_its_reservation_until_repair_posts_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _funded(engine)
    with monkeypatch.context() as crash:
        crash.setattr(ClaimWriter, "finish_later", lambda self, *args: None)  # died after the rows
        await engine.post_json(_pay("30.00"))
    head = (await engine.limits().heads([CUSTOMER]))[CUSTOMER]
    assert (head.balance, head.pending_debits, head.available) == (Decimal("100.00"), Decimal("30.00"), 70)
    with pytest.raises(LimitExceeded):  # the reservation still counts: 70 is all there is
        await engine.post_json(_pay("70.01"))
    report = await engine.repair()
    assert report.unfinished >= 1
    head = (await engine.limits().heads([CUSTOMER]))[CUSTOMER]
    assert (head.balance, head.pending_debits) == (Decimal("70.00"), 0)
    await engine.post_json(_pay("70.00"))
    assert (await engine.balance(CUSTOMER))[0].closing == 0


async def test_a_write_killed_before_its_claim_is_released_only_once_it_cannot_claim(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _funded(engine)

    async def killed(self: ClaimQueues, claims: object) -> list[object]:
        raise StoreUnavailable("the writer died before its claim")

    with monkeypatch.context() as crash:
        crash.setattr(ClaimQueues, "claim_all", killed)
        with pytest.raises(LedgerError):
            await engine.post_json(_pay("60.00"))
    assert (await engine.limits().heads([CUSTOMER]))[CUSTOMER].available == Decimal("40.00")
    await engine.repair()  # too young: a live writer could still claim it
    assert (await engine.limits().heads([CUSTOMER]))[CUSTOMER].pending_debits == Decimal("60.00")
    store = engine._store  # the store's own repair, at an instant past the grace
    await store.repair(engine.policy, datetime.now(UTC) + timedelta(minutes=16))
    head = (await engine.limits().heads([CUSTOMER]))[CUSTOMER]
    assert (head.balance, head.pending_debits) == (Decimal("100.00"), 0)
    assert engine.policy is not None


async def test_a_limit_set_elsewhere_reaches_a_running_writer_through_the_fence(
    engine: Engine, ledger_url: str
) -> None:
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-1"))
    await engine.post_json(_pay("10.00"))  # this writer has read the limits: none
    async with open_ledger(LedgerOptions(store=ledger_url)) as admin:
        await admin.limits().set(CUSTOMER_TEXT, "50", None, "elsewhere")
    with pytest.raises(LimitExceeded) as refused:  # its old view would have let 40.01 through
        await engine.post_json(_pay("40.01"))
    assert refused.value.limit == 50 and refused.value.available == Decimal("90.00")
    await engine.post_json(_pay("40.00"))
    async with open_ledger(LedgerOptions(store=ledger_url)) as admin:
        await admin.limits().clear(CUSTOMER_TEXT, "elsewhere")
    await engine.post_json(_pay("60.00"))  # and the clearing reaches it too
    assert (await engine.balance(CUSTOMER))[0].closing == Decimal("-10.00")


async def test_a_head_left_from_an_earlier_bounded_stretch_is_made_again(
    engine: Engine, ledger_url: str
) -> None:
    """A writer that still knows an old limit makes a head after the limit was cleared (its claim
    then meets the fence); sets posted while the account is unbounded never reach that head, so
    when the account is bounded again the head is made again from the entries, not trusted."""
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-1"))
    async with open_ledger(LedgerOptions(store=ledger_url)) as admin:
        await admin.limits().set(CUSTOMER_TEXT, "0", None, "ops")
        await engine.post_json(_pay("10.00"))  # this writer's view: bounded, head made
        await admin.limits().clear(CUSTOMER_TEXT, "ops")  # heads of unbounded accounts dropped
        await engine.post_json(_pay("5.00"))  # stale view: remakes a head, then meets the fence
        await admin.post_json(_pay("50.00"))  # unbounded: no head moves
        await admin.limits().set(CUSTOMER_TEXT, "0", None, "ops")
    with pytest.raises(LimitExceeded) as refused:  # 35 left: a stale head would still say 85
        await engine.post_json(_pay("35.01"))
    assert refused.value.available == Decimal("35.00")
    await engine.post_json(_pay("35.00"))
    assert (await engine.balance(CUSTOMER))[0].closing == 0


async def test_a_refusal_is_never_answered_from_what_this_process_last_saw(
    engine: Engine, ledger_url: str
) -> None:
    """Another process credits a bounded account this one saw empty: a debit it now covers passes."""
    await engine.limits().set(CUSTOMER_TEXT, "0", None, "ops")
    with pytest.raises(LimitExceeded):  # this process now knows the head at 0
        await engine.post_json(_pay("50.00"))
    async with open_ledger(LedgerOptions(store=ledger_url)) as elsewhere:
        await elsewhere.post_json(_pay("100.00", payer="bank", payee="acc-1"))
    await engine.post_json(_pay("50.00"))
    assert (await engine.balance(CUSTOMER))[0].closing == Decimal("50.00")
