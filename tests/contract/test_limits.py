"""Account limits: races that must leave exactly the funded sets, refusals that write nothing, the
history of changes, and the heads (fast path) against a full fold of the entries (slow path)."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import NotFound, ValidationError
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.domain.model import Address
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.stores import on_fresh_ledger, settled_heads

PREFIX = "test_uk/com.test.customer/current/GBP"
CUSTOMER, BANK = f"{PREFIX}/acc-1", f"{PREFIX}/bank"


def _pay(amount: str, payer: str = "acc-1", payee: str = "bank", n: object = None) -> str:
    txid = uuid.uuid5(uuid.NAMESPACE_URL, f"{payer}-{payee}-{amount}-{n}") if n is not None else None
    return transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=txid)


async def _closing(engine: Engine, address: str) -> Decimal:
    rows = await engine.balance(parse_address(address))
    return rows[0].closing if rows else Decimal(0)


async def _funded(engine: Engine, amount: str) -> None:
    await engine.post_json(_pay(amount, payer="bank", payee="acc-1"))


async def test_fifty_racing_debits_of_ten_against_a_hundred_with_min_zero(engine: Engine) -> None:
    await _funded(engine, "100.00")
    await engine.limits().set(f"{PREFIX}/*", "0", None, "test")
    results = await asyncio.gather(
        *(engine.post_json(_pay("10.00", n=n)) for n in range(50)), return_exceptions=True
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, LimitExceeded)]
    assert len(accepted) == 10 and len(refused) == 40, results
    assert await _closing(engine, CUSTOMER) == Decimal("0.00")
    error = refused[0]
    assert error.account == parse_address(CUSTOMER) and error.bound == "min"
    assert error.available == Decimal("0.00") and error.asked == Decimal("10.00") and error.limit == 0
    assert "acc-1" in str(error) and "below its minimum 0.00" in str(error)
    heads = await engine.limits().heads([parse_address(CUSTOMER), parse_address(BANK)])
    assert heads[parse_address(CUSTOMER)].available == Decimal("0.00")  # the bank's is not bounded
    assert parse_address(BANK) in heads  # the pattern covers it too: its head is folded like any


def _post_from_another_process(url: str, numbers: list[int], answers: multiprocessing.Queue[str]) -> None:
    async def run() -> None:
        async with open_ledger(LedgerOptions(store=url)) as engine:
            for n in numbers:
                try:
                    await engine.post_json(_pay("10.00", n=n))
                    answers.put("ok")
                except LimitExceeded:
                    answers.put("refused")

    asyncio.run(run())


async def test_writers_in_five_processes_spend_exactly_what_is_there(engine: Engine, ledger_url: str) -> None:
    await _funded(engine, "100.00")
    await engine.limits().set(CUSTOMER, "0", None, "test")
    context = multiprocessing.get_context("spawn")
    answers: multiprocessing.Queue[str] = context.Queue()
    workers = [
        context.Process(target=_post_from_another_process, args=(ledger_url, list(range(k, 50, 5)), answers))
        for k in range(5)
    ]
    for worker in workers:
        worker.start()
    found = [answers.get(timeout=120) for _ in range(50)]
    for worker in workers:
        worker.join(timeout=60)
    assert found.count("ok") == 10 and found.count("refused") == 40
    assert await _closing(engine, CUSTOMER) == Decimal("0.00")


async def test_a_batch_writes_the_sets_that_pass_and_refuses_the_rest_whole(engine: Engine) -> None:
    await engine.limits().set(CUSTOMER, "-50", "100", "test")
    sets = [parse_entry_set_json(_pay(a, payer=p, payee=q, n=i), engine.currencies) for i, (a, p, q) in enumerate(
        [("40.00", "acc-1", "bank"), ("20.00", "acc-1", "bank"), ("200.00", "bank", "acc-1"),
         ("90.00", "bank", "acc-1"), ("100.00", "bank", "acc-1")]
    )]  # fmt: skip
    outcomes = await engine.record_batch(sets)
    assert [o.refused is not None for o in outcomes] == [False, True, True, False, True]
    assert [getattr(o.refused, "bound", None) for o in outcomes] == [None, "min", "max", None, "max"]
    assert await _closing(engine, CUSTOMER) == Decimal("50.00")
    for outcome in outcomes:  # a refused set left no trace
        if outcome.refused is None:
            await engine.transaction(outcome.transaction.transaction_id)
        else:
            with pytest.raises(NotFound):
                await engine.transaction(outcome.transaction.transaction_id)


async def test_a_limit_set_on_a_busy_account_starts_from_its_balance(engine: Engine) -> None:
    await _funded(engine, "70.00")
    await engine.post_json(_pay("25.00"))
    await engine.limits().set(f"{PREFIX}/*", "0", None, "ops")
    with pytest.raises(LimitExceeded) as refused:
        await engine.post_json(_pay("45.01"))
    assert refused.value.available == Decimal("45.00")
    await engine.post_json(_pay("45.00"))
    assert await _closing(engine, CUSTOMER) == Decimal("0.00")


async def test_an_account_already_out_of_bounds_may_only_move_back(engine: Engine) -> None:
    await engine.post_json(_pay("30.00"))  # overdrawn by 30 before any limit
    await engine.limits().set(CUSTOMER, "0", None, "ops")
    with pytest.raises(LimitExceeded):
        await engine.post_json(_pay("0.01"))
    await engine.post_json(_pay("10.00", payer="bank", payee="acc-1"))  # towards the bound: allowed
    assert await _closing(engine, CUSTOMER) == Decimal("-20.00")


async def test_the_most_specific_limit_covers_an_account_and_clearing_it_is_recorded(engine: Engine) -> None:
    book = engine.limits()
    await book.set(f"{PREFIX}/*", "0", None, "alice")
    await book.set(CUSTOMER, "-500.00", None, "bob")
    await engine.post_json(_pay("400.00"))  # the account's own overdraft beats the product's
    with pytest.raises(LimitExceeded):
        await engine.post_json(_pay("1.00", payer="acc-2"))
    await book.clear(CUSTOMER, "carol")
    with pytest.raises(LimitExceeded):  # the product's min 0 covers it again, from its balance
        await engine.post_json(_pay("1.00"))
    history = await book.history()
    assert [(str(c.limit.pattern), c.changed_by, c.cleared) for c in history] == [
        (f"{PREFIX}/*", "alice", False),
        (CUSTOMER, "bob", False),
        (CUSTOMER, "carol", True),
    ]
    assert [str(limit.pattern) for limit in await book.current()] == [f"{PREFIX}/*"]
    with pytest.raises(NotFound):
        await book.clear(CUSTOMER, "carol")


@pytest.mark.parametrize(
    ("pattern", "low", "high", "field"),
    [
        (f"{PREFIX}/*", "0.001", None, "min"),
        ("test_uk/com.test.customer/current/*/*", "0", None, "pattern.currency"),
        (f"{PREFIX}/*", "5", "1", "min"),
        (f"{PREFIX}/*", None, None, "min"),
        (f"{PREFIX}/*", "1e4", None, "min"),
        (f"{PREFIX}/*", "١٢", None, "min"),
        (f"{PREFIX}/*", "9" * 30, None, "min"),
        (f"{PREFIX}/*", "NaN", None, "min"),
        ("test_uk/com.test.customer/current/XXQ/*", "0", None, "pattern.currency"),
        ("a/b/c", "0", None, "pattern"),
    ],
)
async def test_bad_limits_name_the_field_and_change_nothing(
    engine: Engine, pattern: str, low: str | None, high: str | None, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await engine.limits().set(pattern, low, high, "test")
    assert refused.value.problems[0].field == field
    assert await engine.limits().history() == []


# -- the heads against a full fold -------------------------------------------------------------

ACCOUNTS = ["acc-1", "acc-2", "bank"]
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("pay"),
            st.sampled_from(ACCOUNTS),
            st.sampled_from(ACCOUNTS),
            st.one_of(  # whole tens meet the bounds exactly (the edge); any cents elsewhere
                st.integers(1, 6).map(lambda tens: f"{tens * 10}.00"),
                st.integers(min_value=1, max_value=9000).map(
                    lambda cents: f"{cents // 100}.{cents % 100:02d}"
                ),
            ),
        ),
        st.tuples(
            st.just("limit"),
            st.sampled_from([*ACCOUNTS, "*"]),
            st.one_of(st.none(), st.sampled_from(["-50", "-20", "0", "10", "30"])),
            st.one_of(st.none(), st.sampled_from(["0", "20", "60", "100"])),
        ),
    ),
    min_size=1,
    max_size=25,
)


def _model_bounds(
    limits: dict[str, tuple[str | None, str | None]], account: str
) -> tuple[str | None, str | None]:
    return limits.get(account) or limits.get("*") or (None, None)


#: Examples per store: enough on the embedded one to meet every bound at its edge (fewer missed
#: an off-by-one), and a short run on a node (each example is a new keyspace).
EXAMPLES = {"sqlite": 300, "cassandra": 12}


def test_heads_decide_like_a_full_fold_of_the_entries(store_kind: str, tmp_path: Path) -> None:
    @settings(max_examples=EXAMPLES[store_kind], deadline=None, suppress_health_check=list(HealthCheck))
    @given(plan=steps)
    def check(plan: list[tuple[object, ...]]) -> None:
        on_fresh_ledger(store_kind, tmp_path, lambda url: _replay(url, plan))

    check()


async def _replay(url: str, plan: list[tuple[object, ...]]) -> None:
    """Post the plan, deciding each set with a model that folds every accepted set."""
    balances = dict.fromkeys(ACCOUNTS, Decimal("0.00"))  # the model: every accepted set folded
    limits: dict[str, tuple[str | None, str | None]] = {}
    async with open_ledger(LedgerOptions(store=url)) as engine:
        await engine.apply_schema()
        for n, step in enumerate(plan):
            if step[0] == "limit":
                _, account, low, high = step
                if (low is None and high is None) or (low and high and int(str(low)) > int(str(high))):
                    continue
                await engine.limits().set(f"{PREFIX}/{account}", low, high, "model")
                limits[str(account)] = (
                    None if low is None else str(low),
                    None if high is None else str(high),
                )
                continue
            _, payer, payee, amount = step
            if payer == payee:
                continue
            low, _ = _model_bounds(limits, str(payer))
            _, high = _model_bounds(limits, str(payee))
            refuse = (low is not None and balances[str(payer)] - Decimal(str(amount)) < Decimal(low)) or (
                high is not None and balances[str(payee)] + Decimal(str(amount)) > Decimal(high)
            )
            try:
                await engine.post_json(_pay(str(amount), str(payer), str(payee), n))
            except LimitExceeded:
                assert refuse, (step, balances, limits)
                continue
            assert not refuse, (step, balances, limits)
            balances[str(payer)] -= Decimal(str(amount))
            balances[str(payee)] += Decimal(str(amount))
        for account in ACCOUNTS:
            assert await _closing(engine, f"{PREFIX}/{account}") == balances[account]
        heads = await settled_heads(engine, [parse_address(f"{PREFIX}/{a}") for a in ACCOUNTS])
        for address, head in heads.items():
            assert isinstance(address, Address) and head.balance == balances[address.account_id]
