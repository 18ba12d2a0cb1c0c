"""Our trial balance's movement per account and currency, keyed as an export names the account,
for the tests that compare a journal tool's balances with ours."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from ledger_tui.domain.model import Address
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.ledger import LedgerOptions, open_ledger


def trial_movements(
    url: str, span: TimeRange, name: Callable[[Address], str]
) -> dict[tuple[str, str], Decimal]:
    """{(the account's name in the export, currency): debits - credits} over ``span``, nonzero only."""

    async def read() -> dict[tuple[str, str], Decimal]:
        async with open_ledger(LedgerOptions(store=url)) as engine:
            trial = await engine.trial_balance(span)
        found = {}
        for line in trial.lines(5):
            movement = line.debits - line.credits
            if movement:
                entity, namespace, account_name, currency, account_id = line.path
                found[
                    (name(Address(entity, namespace, account_name, currency, account_id)), line.currency)
                ] = movement
        return found

    return asyncio.run(read())
