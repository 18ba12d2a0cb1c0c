"""Rollup parts, future-dated days and claim-window parts on Cassandra: a rollup's accounts spread
over P partitions of the tree and of day activity, yet listing, balances from blocks and live,
future-dated reads, the trial balance and verify equal a full fold; rows written the old way
(future_activity, claim windows in part 0) are still read."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.domain.address import parse_address, parse_pattern
from ledger_tui.domain.claims import window_of
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.timeutil import TimeRange, from_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.cassandra.windows import WINDOWS_PER_PART, part_of
from ledger_tui.store.url import parse_store_url

from ..support.entry_sets import transfer
from ..support.stores import JANITOR, FixedClock, run_cql, store_url

pytestmark = pytest.mark.cassandra
ROLLUP = ("fin_uk", "com.fin.customer", "current", "GBP")
ACCOUNTS = [f"acc-{n:03d}" for n in range(60)]
#: 2024-10-01T00:00Z; the clock stands at 2024-11-05, so entries from 2024-11-08 on are future-dated.
OCTOBER = 1727740800000
FUTURE = 1731024000000  # 2024-11-08T00:00Z


@pytest.fixture
async def engine(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Engine]:
    url = store_url("cassandra", tmp_path) + "?rollup_parts=4"
    opened = open_store(parse_store_url(url))
    await opened.connect()
    await opened.apply_schema()
    yield Engine(opened, clock=clock)
    await opened.close()
    JANITOR.drop(url)


def _url(engine: Engine) -> str:
    return "cassandra://" + engine.info.target


def _transfer_in_rollup(amount: str, when: int, payer: str, payee: str) -> str:
    document = transfer(amount, when, debit=payer, credit=payee, transaction_id=uuid.uuid4())
    return (
        document.replace('"test_uk"', f'"{ROLLUP[0]}"')
        .replace('"com.test.customer"', f'"{ROLLUP[1]}"')
        .replace('"current"', f'"{ROLLUP[2]}"')
    )


async def test_a_rollup_in_parts_reads_as_a_full_fold(engine: Engine, clock: FixedClock) -> None:
    rng = random.Random(11)
    net = dict.fromkeys(ACCOUNTS, Decimal(0))
    used: set[str] = set()
    total = future_total = Decimal(0)
    for n in range(150):
        payer, payee = rng.sample(ACCOUNTS, 2)
        used |= {payer, payee}
        amount = Decimal(rng.randrange(1, 5000)) / 100
        when = FUTURE + n * 3_600_000 if n % 10 == 0 else OCTOBER + rng.randrange(30 * 86_400_000)
        await engine.post_json(_transfer_in_rollup(str(amount), when, payer, payee))
        net[payer] -= amount
        net[payee] += amount
        total += amount
        future_total += amount if when >= FUTURE else 0
    listed, token = [], None
    while True:
        page = await engine.children(ROLLUP, 7, token)
        listed += page.items
        token = page.next_token
        if token is None:
            break
    assert listed == sorted(used) == await engine.all_children(ROLLUP)
    parents = {str(row[0]) for row in run_cql(_url(engine), "SELECT parent FROM {ks}.account_tree")}
    assert {p for p in parents if "#" in p} == {f"{_node()}#{part}" for part in range(4)}
    activity = {str(row[0]) for row in run_cql(_url(engine), "SELECT node FROM {ks}.day_activity")}
    assert activity and all(node.startswith(_node() + "#") for node in activity)
    for as_sealed in (False, True):
        if as_sealed:
            clock.advance(days=3)
            await engine.seal()
        for account in ACCOUNTS[:5]:
            rows = await engine.balance(parse_address("/".join((*ROLLUP, account))))
            assert (rows[0].closing if rows else Decimal(0)) == net[account]
        rollup = parse_pattern("/".join(ROLLUP) + "/*")
        (row,) = await engine.balance(rollup)
        assert (row.debits, row.credits, row.closing) == (total, total, 0)
        (ahead,) = await engine.balance(rollup, TimeRange(from_epoch_ms(FUTURE), None))
        assert ahead.debits == future_total > 0
    report = await engine.verify()
    assert report.ok, report.problems


def _node() -> str:
    return '["' + '","'.join(ROLLUP) + '"]'


async def test_rows_written_the_old_way_are_still_read(engine: Engine, clock: FixedClock) -> None:
    await engine.post_json(_transfer_in_rollup("1.00", OCTOBER, "acc-001", "acc-002"))
    await engine.post_json(_transfer_in_rollup("12.34", FUTURE + 86_400_000, "acc-001", "acc-002"))
    clock.advance(days=1)
    await engine.seal()  # the rollup is sealed: its future-dated entries are found by their days
    url = _url(engine)
    day = (FUTURE + 86_400_000) // 86_400_000
    run_cql(url, "DELETE FROM {ks}.future_days WHERE node = %s AND day = %s", (_node(), day))
    for account in ("acc-001", "acc-002"):
        run_cql(
            url,
            "INSERT INTO {ks}.future_activity (node, day, account_id) VALUES (%s, %s, %s)",
            (_node(), day, account),
        )
    rollup = parse_pattern("/".join(ROLLUP) + "/*")
    (ahead,) = await engine.balance(rollup, TimeRange(from_epoch_ms(FUTURE), None))
    assert ahead.debits == Decimal("12.34")
    windows = run_cql(url, "SELECT part, window FROM {ks}.claim_windows")
    assert windows and all(part == part_of(window) and part > 0 for part, window in windows)
    now = window_of(datetime.now(UTC))
    assert all(abs(window - now) < WINDOWS_PER_PART for _part, window in windows)
    settings = dict(run_cql(url, "SELECT name, value FROM {ks}.ledger_settings"))
    assert settings["claim_windows_from"] == str(part_of(now)) and settings["rollup_parts"] == "4"


async def test_the_parts_of_a_ledger_are_fixed_at_creation(engine: Engine, tmp_path: Path) -> None:
    url = _url(engine) + "?rollup_parts=8"
    other = open_store(parse_store_url(url))
    await other.connect()
    with pytest.raises(ValidationError, match="created with 4 rollup parts"):
        await Engine(other).post_json(_transfer_in_rollup("1.00", OCTOBER, "acc-001", "acc-002"))
    await other.close()


@pytest.mark.parametrize(
    ("setting", "asked"), [("rollup_parts", "?rollup_parts=4"), ("claim_shards", "?claim_shards=16")]
)
async def test_a_ledger_made_before_its_fixed_counts_keeps_the_defaults(
    tmp_path: Path, clock: FixedClock, setting: str, asked: str
) -> None:
    """A ledger from before a count was a setting has rows laid out by the default: a URL naming
    another count is refused by name (it would hide them), and the default is fixed."""
    url = store_url("cassandra", tmp_path)
    old = open_store(parse_store_url(url))
    await old.connect()
    await old.apply_schema()
    posted = await Engine(old, clock=clock).post_json(
        _transfer_in_rollup("1.00", OCTOBER, "acc-001", "acc-002")
    )
    await old.close()
    default = dict(run_cql(url, "SELECT name, value FROM {ks}.ledger_settings"))[setting]
    run_cql(url, "DELETE FROM {ks}.ledger_settings WHERE name = %s", (setting,))
    try:
        for opened_with in (url + asked, url):
            store = open_store(parse_store_url(opened_with))
            await store.connect()
            try:
                engine = Engine(store, clock=clock)
                if opened_with != url:
                    with pytest.raises(ValidationError) as refused:
                        await engine.all_children(ROLLUP)
                        await engine.transaction(posted.transaction.transaction_id)
                    assert refused.value.problems[0].field == f"store.{setting}"
                    continue
                assert await engine.all_children(ROLLUP) == ["acc-001", "acc-002"]
                assert await engine.transaction(posted.transaction.transaction_id) == posted.transaction
            finally:
                await store.close()
        assert dict(run_cql(url, "SELECT name, value FROM {ks}.ledger_settings"))[setting] == default
    finally:
        JANITOR.drop(url)
