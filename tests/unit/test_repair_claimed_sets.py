"""Repair of the Cassandra claim log against the limits' guarantees, with fakes (no node): a
limit change completes, by its repair, every set claimed before its fence, also the claimed sets of
a young log row that holds an id nobody claimed (a set a limit refused, one the fence sent back)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger_tui.domain.blocks import SealPolicy
from ledger_tui.domain.claims import window_of
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.store.cassandra import repair as repair_module
from ledger_tui.store.cassandra.feed import batch_id_at
from ledger_tui.store.cassandra.limits import reservation
from ledger_tui.store.cassandra.repair import ClaimRepair

ACCOUNT_A = "fintech_uk/com.fintech.customer/current/GBP/a-1"
ACCOUNT_B = "fintech_uk/com.fintech.customer/current/GBP/b-1"


class _Rows:
    def __init__(self) -> None:
        self.written: list[uuid.UUID] = []

    async def write(self, sets: Any, **_: Any) -> None:
        self.written += [t.transaction_id for t in sets]


class _Writer:
    def __init__(self, claimed: dict[uuid.UUID, tuple[RecordedTransaction, uuid.UUID]]) -> None:
        self.claimed = claimed
        self.rows = _Rows()
        self.repair_settles = None

    async def settle(self) -> None:
        return None

    async def claims(self, shard: int, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        return {txid: self.claimed[txid] for txid in ids if txid in self.claimed}


class _Limits:
    def __init__(self) -> None:
        self.posted: list[str] = []
        self.released: list[str] = []

    async def settle(self, attempt: uuid.UUID, moves: Any, *, post: bool) -> None:
        (self.posted if post else self.released).extend(reservation(attempt, txid) for txid in moves)


class _Log:
    def __init__(self) -> None:
        self.done: list[Any] = []

    async def execute(self, statement: Any, parameters: Any = None, **_: Any) -> Any:
        if statement == "log_done":
            self.done.append(parameters)
        return None

    async def prepare(self, name: str) -> str:
        return name


async def _shards() -> int:
    return 1


def _repair(writer: _Writer, limits: _Limits, log: _Log, rows: list[Any]) -> ClaimRepair:
    repair = ClaimRepair(writer, log.execute, log.prepare, _shards, None, limits)  # type: ignore[arg-type]

    async def unfinished(since_window: int) -> list[Any]:
        return rows

    repair.unfinished = unfinished  # type: ignore[method-assign]
    return repair


@pytest.fixture(autouse=True)
def _materialise_as_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repair_module, "materialise", lambda sets, policy, completed_at=None: list(sets))


def test_a_limit_changes_repair_completes_the_claimed_sets_of_a_row_with_an_unclaimed_id() -> None:
    """W logs sets X (debits account A, not bounded in W's view) and Z (refused at bounded B, so
    never claimed), claims X and crashes before its rows. A limit on A is set: fence, then repair
    (at the wall clock, a minute after W's row), then ready, then a writer folds A's head from
    its entries. The fold is exact only if repair wrote X's rows."""
    logged = datetime.now(UTC) - timedelta(minutes=1)
    token = batch_id_at(logged)
    key = (window_of(logged), 0, token)
    x, z = uuid.uuid4(), uuid.uuid4()
    writer = _Writer({x: (RecordedTransaction(x, (), "h", logged), token)})
    limits, log = _Limits(), _Log()
    row: Any = (key, [x, z], {z: [ACCOUNT_B]}, frozenset())
    asyncio.run(_repair(writer, limits, log, [row]).repair(SealPolicy(), datetime.now(UTC), 0))
    assert x in writer.rows.written, (
        "the change's repair left the claimed set X without rows: a head folded after the change "
        "is ready misses X's debit for good"
    )
