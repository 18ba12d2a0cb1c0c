"""Limits under concurrent writers, on both stores: random debits racing on bounded accounts never
overspend any of them, and never refuse one that the money left at the end would have covered
(no reservation leaks); balances, heads and a full fold agree."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.limits import Head, LimitExceeded
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.stores import on_fresh_ledger, settled_heads

PREFIX = "test_uk/com.test.customer/current/GBP"
ACCOUNTS = ["acc-1", "acc-2", "acc-3"]
#: Examples per store (a node's keyspace per example costs seconds).
EXAMPLES = {"sqlite": 60, "cassandra": 6}

race = st.fixed_dictionaries(
    {
        "funds": st.lists(st.integers(0, 200), min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)),
        "minimum": st.sampled_from(["0", "-30", "25"]),
        "writers": st.lists(
            st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.integers(1, 6000)), min_size=1, max_size=12),
            min_size=2,
            max_size=5,
        ),
    }
)


def test_racing_debits_spend_exactly_what_the_bounds_allow(store_kind: str, tmp_path: Path) -> None:
    @settings(max_examples=EXAMPLES[store_kind], deadline=None, suppress_health_check=list(HealthCheck))
    @given(plan=race)
    def check(plan: dict[str, object]) -> None:
        on_fresh_ledger(store_kind, tmp_path, lambda url: _race(url, plan))

    check()


async def _race(url: str, plan: dict[str, object]) -> None:
    funds: list[int] = plan["funds"]  # type: ignore[assignment]
    minimum = Decimal(str(plan["minimum"]))
    writers: list[list[tuple[str, int]]] = plan["writers"]  # type: ignore[assignment]
    async with open_ledger(LedgerOptions(store=url)) as engine:
        await engine.apply_schema()
        for account, whole in zip(ACCOUNTS, funds, strict=True):
            if whole:
                await engine.post_json(transfer(f"{whole}.00", 1727347200000, debit="bank", credit=account))
        await engine.limits().set(f"{PREFIX}/*", str(minimum), None, "race")
        refused: list[tuple[str, Decimal]] = []

        async def writer(steps: list[tuple[str, int]]) -> None:
            for account, cents in steps:
                amount = Decimal(cents) / 100
                document = transfer(f"{amount:.2f}", 1727347200000, debit=account, credit="shop")
                try:
                    await engine.post_json(document)
                except LimitExceeded as error:
                    assert error.account == parse_address(f"{PREFIX}/{account}")
                    refused.append((account, amount))

        await asyncio.gather(*(writer(steps) for steps in writers))
        heads = await settled_heads(engine, [parse_address(f"{PREFIX}/{a}") for a in ACCOUNTS])
        for account, whole in zip(ACCOUNTS, funds, strict=True):
            address = parse_address(f"{PREFIX}/{account}")
            rows = await engine.balance(address)
            closing = rows[0].closing if rows else Decimal(0)
            folded = Decimal(0)  # the slow, obvious path: every entry of the account
            async for chunk in engine.iter_entries(address):
                for entry in chunk:
                    folded += entry.amount if entry.side.value == "credit" else -entry.amount
            assert closing == folded
            opening = Decimal(whole)
            assert closing >= min(minimum, opening), (account, closing, minimum)  # never overspent
            head = heads.get(address, Head())  # no head: never funded, nothing ever passed
            assert (head.balance, head.pending_debits) == (closing, 0)  # every reservation settled
            for other, amount in refused:  # no refusal the money left would have covered
                if other == account and opening - amount >= minimum:
                    assert closing - amount < minimum, (account, amount, closing, refused)
