"""A limit change (c2: clear acc-a) must not drop a head a later change (c3: set acc-a again) bounds
and is already in force with: a write that reserved there and claims afterwards would post at
nothing, and the head made again from the entries would have neither its reservation nor its
amount, so another write could spend the same money and pass the bound."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])
PREFIX = "test_uk/com.test.customer/current/GBP"
A_TEXT = f"{PREFIX}/acc-a"
A = parse_address(A_TEXT)


def _pay(amount: str, payer: str, payee: str = "bank") -> str:
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())


async def test_a_slow_clear_never_drops_the_head_a_later_limit_is_ready_with(
    engine: Engine, ledger_url: str
) -> None:
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-a"))
    await engine.limits().set(A_TEXT, "0", None, "ops")  # c1
    async with (
        open_ledger(LedgerOptions(store=ledger_url)) as slow,
        open_ledger(LedgerOptions(store=ledger_url)) as fast,
    ):
        reserved, go_on = asyncio.Event(), asyncio.Event()
        writer = fast._store._writer  # type: ignore[attr-defined]
        claim_all = writer._queues.claim_all

        async def paused(queued: Any) -> Any:
            reserved.set()  # reserved at acc-a's head (under c3), about to claim
            await go_on.wait()
            return await claim_all(queued)

        store: Any = slow._store
        repair = store.repair
        posting: list[asyncio.Future[Any]] = []

        async def slow_repair(*args: Any) -> Any:
            report = await repair(*args)
            await fast.limits().set(A_TEXT, "0", None, "ops-2")  # c3: fence, repair, ready
            writer._queues.claim_all = paused
            posting.append(asyncio.ensure_future(fast.post_json(_pay("60.00", payer="acc-a"))))
            await asyncio.wait_for(reserved.wait(), 30)
            return report  # c2 goes on: drops acc-a's head (unbounded after c2)

        store.repair = slow_repair
        await slow.limits().clear(A_TEXT, "ops-1")  # c2
        with pytest.raises(LimitExceeded):  # 100 - 60 reserved: 40 is all there is
            await engine.post_json(_pay("60.00", payer="acc-a"))
        go_on.set()
        await posting[0]
    closing = (await engine.balance(A))[0].closing
    assert closing >= 0, f"acc-a is at {closing} under its limit --min 0"
