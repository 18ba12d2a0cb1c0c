"""An embedded ledger made before the change log gets its sets numbered in recorded order when a
new version opens it, once; and opening it never takes the write lock another process holds."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.stores import FixedClock


async def test_a_ledger_without_a_change_log_gets_one_in_recorded_order(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    posted = []
    async with open_ledger(LedgerOptions(store=f"sqlite:{path}", clock=clock)) as engine:
        for amount in (3, 1, 2):
            clock.advance(seconds=-amount)  # recorded out of commit order
            txid = uuid.uuid4()
            await engine.post_json(transfer(amount, 1727347200000, transaction_id=txid))
            posted.append((clock.now, txid))
    with sqlite3.connect(path) as old:
        old.execute("DROP TABLE change_log")  # as a ledger made before it
    for _ in range(2):  # the second open adds nothing
        async with open_ledger(LedgerOptions(store=f"sqlite:{path}")) as engine:
            page = await engine.changes().page(None)
            assert [c.transaction.transaction_id for c in page.changes] == [t for _, t in sorted(posted)]
            assert page.cursor == "s1-3" and not page.more
