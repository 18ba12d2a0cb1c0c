"""Engine read fan-out stays bounded; store URLs carry consistency, DC and replication; loader CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.model import Address
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.store.sqlite import SqliteStore
from ledger_tui.store.url import CassandraUrl, SqliteUrl, parse_store_url

from ..support.entry_sets import transfer


class CountingStore(SqliteStore):
    """A real SQLite store that records how many partition reads are in flight at once."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.in_flight = 0
        self.most_in_flight = 0

    async def _counted(self, call: Any) -> Any:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)  # hold the slot so overlapping reads would show
            return await call
        finally:
            self.in_flight -= 1

    async def read_bucket(self, *args: Any, **kwargs: Any) -> Any:
        return await self._counted(super().read_bucket(*args, **kwargs))

    async def read_movements(self, *args: Any, **kwargs: Any) -> Any:
        return await self._counted(super().read_movements(*args, **kwargs))


async def test_balance_reads_partitions_concurrently_but_bounded(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "ledger.sqlite")
    async with store:
        await store.apply_schema()
        engine = Engine(store, read_concurrency=3)
        for month in range(1, 13):  # 12 buckets on each of the two accounts
            when = to_epoch_ms(datetime(2024, month, 5, tzinfo=UTC))
            await engine.post_json(transfer(month, when))
        rows = await engine.balance(Address("test_uk", "com.test.customer", "current", "GBP", "acc-1"))
        assert rows[0].debits == sum(range(1, 13))
        assert store.most_in_flight == 3  # concurrent, never past the bound
        store.most_in_flight = 0
        report = await engine.verify()  # the whole-ledger walk nests fan-outs: still bounded
        assert report.ok and 1 < store.most_in_flight <= 3


def test_cassandra_url_options() -> None:
    url = parse_store_url(
        "cassandra://10.0.0.1,10.0.0.2:9142/books?consistency=quorum&serial_consistency=SERIAL"
        "&dc=eu-west&replication=3&timeout=4"
    )
    assert url == CassandraUrl(
        hosts=("10.0.0.1", "10.0.0.2"), port=9142, keyspace="books", consistency="QUORUM",
        serial_consistency="SERIAL", local_dc="eu-west", replication=3, timeout_s=4,
    )  # fmt: skip
    default = parse_store_url("cassandra://localhost/ledger")
    assert isinstance(default, CassandraUrl)
    assert (default.port, default.consistency, default.serial_consistency) == (
        9042,
        "LOCAL_QUORUM",
        "LOCAL_SERIAL",
    )
    assert parse_store_url("sqlite:/tmp/x.db") == SqliteUrl(Path("/tmp/x.db"))
    chosen = parse_store_url("cassandra://h/ledger?claim_shards=64")
    assert isinstance(chosen, CassandraUrl) and chosen.claim_shards == 64 and default.claim_shards is None
    parts = parse_store_url("cassandra://h/ledger?rollup_parts=16")
    assert isinstance(parts, CassandraUrl) and parts.rollup_parts == 16 and default.rollup_parts is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("cassandra://h/ledger?consistency=SOMETIMES", "store.consistency"),
        ("cassandra://h/ledger?serial_consistency=QUORUM", "store.serial_consistency"),
        ("cassandra://h/ledger?replication=0", "store.replication"),
        ("cassandra://h/ledger?claim_shards=0", "store.claim_shards"),
        ("cassandra://h/ledger?claim_shards=4097", "store.claim_shards"),
        ("cassandra://h/ledger?claim_shards=eight", "store.claim_shards"),
        ("cassandra://h/ledger?rollup_parts=0", "store.rollup_parts"),
        ("cassandra://h/ledger?rollup_parts=4097", "store.rollup_parts"),
        ("cassandra://h:99999/ledger", "store.port"),
        ("cassandra://h/ledger?colour=blue", "store"),
        ("cassandra://user:secret@h/ledger", "store"),
        ("cassandra:///ledger", "store.hosts"),
        ("postgres://h/ledger", "store"),
    ],
)
def test_bad_store_urls_name_the_part(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_store_url(text)
    assert raised.value.problems[0].field == field
    assert "secret" not in str(raised.value)


def test_load_sample_prints_totals_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    args = ["--store", store, "load-sample", "--transactions", "40", "--until", "2026-11-01", "--seed", "5"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "loaded: transactions 41 (new 41, already there 0)" in first and "entries/s" in first
    # nothing just loaded is sealable yet (the seal margin), so load-sample says when to seal
    assert "sealed:" not in first and "run `ledger-tui seal` once 60 s" in first
    assert main(args) == 0
    assert "loaded: transactions 41 (new 0, already there 41)" in capsys.readouterr().out
    assert main(["--store", store, "verify"]) == 0


def test_demo_without_console_prints_accounts_and_balances(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:{tmp_path / 'demo.sqlite'}"
    assert (
        main(["--store", store, "demo", "--no-console", "--transactions", "20", "--until", "2026-11-01"]) == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "accounts 33" in lines[0] and lines[1].startswith("sealed: days before")
    assert len(lines) == 2 + 33  # totals and seal lines, then one per account
    equity = next(line for line in lines if line.startswith("fintech_uk/com.fintech.equity/owners/GBP/*"))
    assert equity.split()[-2:] == ["GBP", "5000100.00"]  # the sample's 100 plus the generated funding
