"""A limit change completes, by its repair, every set claimed before its fence, also in a log row
that holds an id nobody claimed (a set a limit refused) and that repair otherwise leaves to its
write for a while: the first head folded after the change counts the claimed set, and the new
bound holds."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import LedgerError
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra.rows import RowWriter
from ledger_tui.store.cassandra.writes import ClaimWriter

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])
PREFIX = "test_uk/com.test.customer/current/GBP"
A = parse_address(f"{PREFIX}/acc-a")


def _pay(amount: str, payer: str, payee: str = "bank") -> str:
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())


async def test_a_set_claimed_before_a_limit_is_in_the_head_the_limit_makes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await engine.post_json(_pay("100.00", payer="bank", payee="acc-a"))
    await engine.limits().set(f"{PREFIX}/acc-b", "0", None, "ops")  # acc-b: empty, bounded
    x = parse_entry_set_json(_pay("60.00", payer="acc-a"), engine.currencies)
    z = parse_entry_set_json(_pay("10.00", payer="acc-b"), engine.currencies)  # refused at acc-b

    async def died(self: RowWriter, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the writer died after its claims, before its rows")

    with monkeypatch.context() as crash:
        crash.setattr(RowWriter, "send", died)
        crash.setattr(RowWriter, "write", died)
        crash.setattr(ClaimWriter, "finish_later", lambda self, *args, **kwargs: None)
        with pytest.raises((RuntimeError, LedgerError)):
            await engine.record_batch([x, z])
    await engine.limits().set(f"{PREFIX}/acc-a", "0", None, "ops")  # fence, repair, ready
    with contextlib.suppress(LimitExceeded):  # 40 is all acc-a has once X is written: refused
        await engine.post_json(_pay("100.00", payer="acc-a"))
    store = engine._store
    await store.repair(engine.policy, datetime.now(UTC) + timedelta(minutes=16))  # X's rows, at last
    closing = (await engine.balance(A))[0].closing
    assert closing >= 0, f"acc-a is at {closing} under its limit --min 0"
