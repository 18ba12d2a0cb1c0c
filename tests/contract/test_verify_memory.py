"""``verify`` holds a bounded number of legs at once, however many legs each entry set has.

A page of the transaction scan used to be 1,000 sets whatever their size: with 200-leg sets that
is 200,000 legs in memory at once (345 MB peak RSS for a 1M-entry ledger in bench/balance.py).
Pages now hold at most ``SCAN_SETS * MAX_LEGS`` legs. The store is real; only its scan is watched.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.paging import Page, PageToken
from ledger_tui.domain.parse import MAX_LEGS, build_entry_set
from ledger_tui.engine import Engine
from ledger_tui.engine.audit import SCAN_SETS
from ledger_tui.store.base import Store

from ..support.stores import FixedClock

WHEN = datetime(2024, 6, 3, 12, tzinfo=UTC)


def wide_set(index: int) -> list[Leg]:
    """``MAX_LEGS - 1`` debits of one account against one credit."""
    hot = Address("le_wide", "com.test", "current", "GBP", "hot")
    legs = [
        Leg(hot, Side.DEBIT, Decimal("1.00"), "", WHEN + timedelta(seconds=index * MAX_LEGS + leg))
        for leg in range(MAX_LEGS - 1)
    ]
    counter = Address("le_wide", "com.test", "current", "GBP", "counter")
    return [*legs, Leg(counter, Side.CREDIT, Decimal(MAX_LEGS - 1), "", WHEN)]


async def test_verify_pages_the_transaction_scan_by_legs(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(store, clock=FixedClock(WHEN + timedelta(days=3)))
    await engine.apply_schema()
    sets = [build_entry_set(uuid.uuid4(), wide_set(i)) for i in range(2 * SCAN_SETS + 7)]
    narrow = [
        build_entry_set(
            uuid.uuid4(),
            [
                Leg(
                    Address("le_wide", "com.test", "current", "GBP", "a"),
                    Side.DEBIT,
                    Decimal("1.00"),
                    "",
                    WHEN,
                ),
                Leg(
                    Address("le_wide", "com.test", "current", "GBP", "b"),
                    Side.CREDIT,
                    Decimal("1.00"),
                    "",
                    WHEN,
                ),
            ],
        )
        for _ in range(30)
    ]
    await engine.record_batch([*sets, *narrow])
    await engine.seal()
    pages: list[tuple[int, int]] = []
    scan = store.scan_transactions

    async def watched(page_size: int, token: PageToken | None = None) -> Page[RecordedTransaction]:
        page = await scan(page_size, token)
        pages.append((len(page.items), sum(len(t.legs) for t in page.items)))
        return page

    monkeypatch.setattr(store, "scan_transactions", watched)
    report = await engine.verify()
    assert report.ok, report.problems
    assert report.transactions == len(sets) + len(narrow)
    assert sum(count for count, _ in pages) == len(sets) + len(narrow)
    assert max(legs for _, legs in pages) <= SCAN_SETS * MAX_LEGS <= 20_000
