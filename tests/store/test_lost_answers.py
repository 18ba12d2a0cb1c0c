"""What a write answers when its claim landed but something after it (or the claim's own answer)
failed with a timeout: not confirmed (retry with the same id), never "nothing written", which the
HTTP origin would let a client that sent no id answer by posting the set again."""

from __future__ import annotations

import uuid

import pytest
from cassandra import OperationTimedOut

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import NotConfirmed, StoreUnavailable
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.store.cassandra import CassandraStore, aio
from ledger_tui.store.cassandra.rows import RowWriter

from ..support.entry_sets import transfer

pytestmark = pytest.mark.parametrize("store_kind", [pytest.param("cassandra", marks=pytest.mark.cassandra)])
PREFIX = "test_uk/com.test.customer/current/GBP"
A = parse_address(f"{PREFIX}/acc-a")


def _pay(amount: str, payer: str, payee: str = "bank") -> str:
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())


async def test_rows_failing_after_the_claim_are_not_confirmed_never_nothing_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_set = parse_entry_set_json(_pay("12.34", payer="acc-a"), engine.currencies)

    async def unavailable(self: RowWriter, *args: object, **kwargs: object) -> None:
        raise StoreUnavailable("Cassandra did not answer (OperationTimedOut)")

    with monkeypatch.context() as failing:
        failing.setattr(RowWriter, "send", unavailable)
        failing.setattr(RowWriter, "write", unavailable)
        with pytest.raises(StoreUnavailable) as raised:
            await engine.post(entry_set)
    assert isinstance(raised.value, NotConfirmed), f"claimed, but answered {raised.value!r}"


async def test_a_claim_that_landed_but_whose_answers_all_timed_out_is_not_confirmed(
    store: CassandraStore, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim_id = (await store._statement("claim")).query_id
    real_execute = aio.execute
    landed: list[object] = []

    async def execute(session: object, statement: object, *args: object, **kwargs: object) -> aio.Result:
        members = getattr(statement, "_statements_and_parameters", [])
        if any(query_id == claim_id for _prepared, query_id, _values in members):
            if not landed:
                landed.append(await real_execute(session, statement, *args, **kwargs))
            raise OperationTimedOut("client timeout")
        return await real_execute(session, statement, *args, **kwargs)

    entry_set = parse_entry_set_json(_pay("12.34", payer="acc-a"), engine.currencies)
    with monkeypatch.context() as failing:
        failing.setattr(aio, "execute", execute)
        with pytest.raises(StoreUnavailable) as raised:
            await engine.post(entry_set)
    assert landed
    assert isinstance(raised.value, NotConfirmed), f"claimed, but answered {raised.value!r}"
