"""No partition grows without bound: a hot account at volume, imported by the real CLI.

ENTRIES sets, all effective in one month, each put one leg on one hot account (split beforehand
by `layout split --now` into enough month subs for ENTRIES/subs under half of BOUND) and the
other on one of the customer accounts (5,000 at full size), on a ledger whose claim shards keep
sets/shards and whose rollup parts keep customers/parts under half of BOUND (URL settings fixed
at creation); imported in two runs of `ledger-tui import`, then sealed. Then, through the driver,
every partition of EVERY table of the keyspace is counted: none holds more than BOUND rows. And
the ledger's reads are exact against a fold of the generated sets: the hot account's balance
(from blocks and by the full fold), the customers' balance, the whole browse of the hot account
(every entry once, in order of effective time, merged over its subs, in odd-sized pages), an
as-of balance at a recorded time between the two imports, and `verify`.

`make test` runs 30,000 entries against a bound of 3,000; `make test-scale` the issue's size
(LEDGER_SCALE_ENTRIES=300000, LEDGER_SCALE_BOUND=20000).
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from bench.hot_import import (
    CUSTOMER,
    HOT,
    HotSet,
    hot_sets,
    last_whole_month,
    ledger_cli,
    under_half,
    write_jsonl,
)
from bench.hot_import import CUSTOMERS as CUSTOMER_ACCOUNTS
from bench.partition_census import census, connect
from ledger_tui.domain.address import parse_address, parse_pattern
from ledger_tui.domain.model import Entry
from ledger_tui.domain.paging import PageToken
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, build_engine

from ..support.stores import JANITOR, cassandra_endpoint, store_url

pytestmark = pytest.mark.cassandra

# Read at import: the suite's autouse fixture clears LEDGER_* before each test runs.
ENTRIES = int(os.environ.get("LEDGER_SCALE_ENTRIES", "30000"))
BOUND = int(os.environ.get("LEDGER_SCALE_BOUND", "3000"))
#: Customer accounts (the bench's 5,000 at full size; fewer by default, since seal and verify read
#: every account: 1,500 at a bound of 3,000, still two rollup parts).
CUSTOMERS = min(CUSTOMER_ACCOUNTS, BOUND // 2)
#: Rows per page of the browse: odd, so pages never line up with the subs' own pages.
PAGE = 997
#: Every table the package's schema makes (the census must have counted each one).
TABLES = set(
    re.findall(
        r"CREATE TABLE IF NOT EXISTS (\w+)",
        resources.files("ledger_tui.store.cassandra").joinpath("schema.cql").read_text(),
    )
)


def folded(sets: list[HotSet]) -> tuple[Decimal, Decimal]:
    """The hot account's debits and credits over ``sets``, summed here from the input."""
    debits = sum((s.amount for s in sets if s.hot_side == "debit"), Decimal("0.00"))
    credits = sum((s.amount for s in sets if s.hot_side == "credit"), Decimal("0.00"))
    return debits, credits


async def browse(engine: Engine, address: str) -> list[Entry]:
    """Every entry of one account, page by page as the console reads them."""
    entries: list[Entry] = []
    token: PageToken | None = None
    while True:
        page = await engine.entries(parse_address(address), page_size=PAGE, token=token)
        entries += page.items
        if page.next_token is None:
            return entries
        assert len(page.items) == PAGE, "a page short of its size before the last"
        token = page.next_token


async def test_a_hot_account_at_volume_keeps_every_partition_under_the_bound(tmp_path: Path) -> None:
    assert ENTRIES > BOUND, "unsplit, the hot account's month would fit the bound: nothing to show"
    subs, shards, parts = under_half(ENTRIES, BOUND), under_half(ENTRIES, BOUND), under_half(CUSTOMERS, BOUND)
    base = store_url("cassandra", tmp_path)
    keyspace = base.rsplit("/", 1)[1]
    url = f"{base}?claim_shards={shards}&rollup_parts={parts}"  # both fixed at creation
    month = last_whole_month()  # no entry future-dated
    sets = list(hot_sets(ENTRIES, CUSTOMERS, month, seed=11))
    half = len(sets) // 2
    first = write_jsonl(tmp_path / "first.jsonl", sets[:half])
    second = write_jsonl(tmp_path / "second.jsonl", sets[half:])
    took: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        nonlocal started
        took[name], started = time.monotonic() - started, time.monotonic()

    try:
        ledger_cli(url, "schema", "apply")
        ledger_cli(url, "layout", "split", HOT, "--subs", str(subs), "--now")
        imported = ledger_cli(url, "import", str(first))
        assert f"new {half}," in imported.stdout, imported.stdout
        between = datetime.now(UTC)  # after every set of the first run was recorded
        time.sleep(0.01)
        imported = ledger_cli(url, "import", str(second))
        assert f"new {len(sets) - half}," in imported.stdout, imported.stdout
        lap("import")
        engine = build_engine(LedgerOptions(store=url, seal_margin=timedelta(0)))
        await engine.connect()
        try:
            await engine.seal()
            lap("seal")
            await check_reads(engine, sets, half, between)
            lap("reads")
            await check_verify(engine, sets)
            lap("verify")
        finally:
            await engine.close()
        largest = check_partitions(keyspace, month, subs, len(sets))
        lap("census")
    finally:
        JANITOR.drop(keyspace)
    print(
        f"\n{ENTRIES:,} hot entries, bound {BOUND:,}: {subs} subs, {shards} claim shards, {parts} rollup "
        f"parts; largest partition per table {largest}; seconds { ({k: round(v, 1) for k, v in took.items()}) }"
    )


async def check_reads(engine: Engine, sets: list[HotSet], half: int, between: datetime) -> None:
    hot = parse_address(HOT)
    debits, credits = folded(sets)
    for reader in (engine, engine.full_fold()):  # from balance blocks, and every entry folded
        (row,) = await reader.balance(hot)
        assert (row.debits, row.credits, row.count) == (debits, credits, len(sets))
        (row,) = await reader.balance(parse_pattern(f"{CUSTOMER}/*"))  # the other legs mirror them
        assert (row.debits, row.credits, row.count) == (credits, debits, len(sets))
    (row,) = await engine.balance(hot, as_of=between)
    assert (row.debits, row.credits, row.count) == (*folded(sets[:half]), half)
    (row,) = await engine.balance(hot, as_of=datetime.now(UTC))  # after the seal: from blocks
    assert (row.debits, row.credits, row.count) == (debits, credits, len(sets))

    listed = await browse(engine, HOT)
    got = [(to_epoch_ms(e.effective_at), e.transaction_id, e.side.value, e.amount) for e in listed]
    assert len(got) == len(sets) and len({row[1] for row in got}) == len(sets)  # every entry once
    assert set(got) == {(s.effective_ms, s.transaction_id, s.hot_side, s.amount) for s in sets}
    times = [row[0] for row in got]
    assert times == sorted(times), "the browse is not in order of effective time"


async def check_verify(engine: Engine, sets: list[HotSet]) -> None:
    report = await engine.verify()
    assert report.ok, report.problems
    assert (report.transactions, report.entries) == (len(sets), 2 * len(sets))
    total = sum((s.amount for s in sets), Decimal("0.00"))
    assert (report.totals["GBP"].debits, report.totals["GBP"].credits) == (total, total)


def check_partitions(keyspace: str, month: str, subs: int, sets: int) -> dict[str, int]:
    """Every table's largest partition, once each is shown to be within the bound."""
    cluster, session = connect(*cassandra_endpoint())
    try:
        counted = census(session, keyspace)
        hot_parts = [
            row.time_bucket
            for row in session.execute(
                f"SELECT time_bucket FROM {keyspace}.account_buckets WHERE legal_entity = %s AND "
                "namespace = %s AND name = %s AND currency = %s AND account_id = %s",
                tuple(HOT.split("/")),
            )
        ]
    finally:
        cluster.shutdown()
    assert set(counted) == TABLES, set(counted) ^ TABLES
    assert sum(counted["ledger_entries"]) == 2 * sets and sum(counted["entry_sets"]) == sets
    assert hot_parts == [f"{month}~{sub:03d}" for sub in range(subs)]  # really split
    largest = {table: max(counts, default=0) for table, counts in counted.items()}
    over = {table: rows for table, rows in largest.items() if rows > BOUND}
    assert not over, f"partitions over {BOUND:,} rows: {over}"
    return {table: rows for table, rows in largest.items() if rows}
