"""Dump, restore and copy between the two stores, both ways: the same books, proven by every read.

The source holds generated sets recorded over weeks (so most are back-dated and late), reversals,
sealed days and sets recorded after the seal; the copy must answer every balance, entry list,
as-of read and trial balance as the source does, and both must verify clean.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.dump import BooksDigest
from ledger_tui.domain.model import Address, Entry
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.domain.trial_balance import TrialBalance, TrialLine
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.loader import generated_sets
from ledger_tui.store.url import parse_store_url

from ..support.stores import JANITOR, FixedClock, store_url, wait_until_writing

REPO = Path(__file__).resolve().parents[2]
#: When the generated books end (the first round is recorded then, the others a week apart).
UNTIL = datetime(2024, 11, 5, 9, 30, tzinfo=UTC)
BOTH_WAYS = [
    pytest.param(("sqlite", "cassandra"), id="sqlite-to-cassandra", marks=pytest.mark.cassandra),
    pytest.param(("cassandra", "sqlite"), id="cassandra-to-sqlite", marks=pytest.mark.cassandra),
]


def _url(kind: str, where: Path) -> str:
    """An empty ledger (on Cassandra lent: give it back)."""
    where.mkdir(parents=True, exist_ok=True)
    return JANITOR.lend() if kind == "cassandra" else store_url(kind, where)


@pytest.fixture(params=BOTH_WAYS)
def ledgers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A source and an empty target URL, of the two kinds the direction names."""
    source_kind, target_kind = request.param
    urls = _url(source_kind, tmp_path / "source"), _url(target_kind, tmp_path / "target")
    yield urls
    for url in urls:
        if url.startswith("cassandra"):
            JANITOR.give_back(url)


def _engine(url: str, clock: FixedClock | None = None) -> Engine:
    return Engine(
        open_store(parse_store_url(url)), clock=clock or FixedClock(UNTIL), seal_margin=timedelta(0)
    )


async def _fill(url: str, clock: FixedClock) -> list[datetime]:
    """Sets recorded in four rounds a week apart (back-dated: they span three months), a seal
    after the second round, reversals in the third; returns an instant inside each round."""
    engine = _engine(url, clock)
    await engine.connect()
    await engine.apply_schema()
    every = list(generated_sets(240, months=3, until=clock.now, seed=41))
    instants: list[datetime] = []
    for round_number in range(4):
        await engine.record_batch(every[round_number * 60 : (round_number + 1) * 60])
        instants.append(clock.now)
        if round_number == 1:
            await engine.seal()
        if round_number == 2:
            for original in every[5:8]:
                await engine.reverse(original.transaction_id)
        clock.advance(days=7)
    await engine.close()
    return instants


async def _compare(source_url: str, target_url: str, instants: list[datetime]) -> None:
    source, target = _engine(source_url), _engine(target_url)
    await source.connect()
    await target.connect()
    try:
        assert (await source.books().digest()).hexdigest == (await target.books().digest()).hexdigest
        accounts = await source.accounts()
        assert accounts and await target.accounts() == accounts
        october = TimeRange(UNTIL.replace(day=1) - timedelta(days=40), UNTIL.replace(day=1))

        async def reads(engine: Engine) -> list[object]:
            """Every read compared, issued at once (each store answers them in any order)."""
            sampled = accounts[:: max(1, len(accounts) // 12)]
            return list(
                await asyncio.gather(
                    *(engine.balance(address) for address in accounts),
                    *(engine.balance(address, october) for address in accounts),
                    *(_items(engine, address) for address in accounts),
                    *(_trial_lines(engine, as_of=as_of) for as_of in instants),
                    *(engine.balance(address, as_of=as_of) for as_of in instants for address in sampled),
                    _trial_lines(engine, window=october),
                )
            )

        wanted, found = await asyncio.gather(reads(source), reads(target))
        assert len(found) == len(wanted)
        for n, (theirs, ours) in enumerate(zip(wanted, found, strict=True)):
            assert ours == theirs, f"read {n} differs"
        for report in await asyncio.gather(source.verify(), target.verify()):
            assert report.ok, report.problems
    finally:
        await source.close()
        await target.close()


async def _items(engine: Engine, address: Address) -> list[Entry]:
    return list((await engine.entries(address, page_size=10_000)).items)


async def _trial_lines(
    engine: Engine, *, as_of: datetime | None = None, window: TimeRange | None = None
) -> list[TrialLine]:
    return _lines(await engine.trial_balance(window or TimeRange(), as_of))


def _lines(balance: TrialBalance) -> list[TrialLine]:
    return [*balance.lines(5), *balance.lines(1), *balance.totals()]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_dump_then_restore_keeps_every_read(
    ledgers: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = ledgers
    instants = asyncio.run(_fill(source, FixedClock(UNTIL)))
    dump = tmp_path / "books.jsonl"
    code, out = _cli(capsys, "--store", source, "dump", str(dump))
    assert code == 0, out
    lines = dump.read_text().splitlines()
    recorded = [json.loads(line)["recorded_at"] for line in lines[1:-1]]
    assert recorded == sorted(recorded) and len(set(recorded)) == 4  # commit order, four rounds
    assert sum('"reverses"' in line for line in lines) == 3
    assert _cli(capsys, "--store", target, "schema", "apply")[0] == 0
    code, out = _cli(capsys, "--store", target, "restore", str(dump))
    assert code == 0 and "equal" in out and "new 243," in out, out
    asyncio.run(_compare(source, target, instants))


def test_copy_keeps_every_read_and_ends_on_equal_digests(
    ledgers: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = ledgers
    instants = asyncio.run(_fill(source, FixedClock(UNTIL)))
    code, out = _cli(capsys, "--store", source, "copy", "--to", target)
    assert code == 0 and "equal" in out, out
    asyncio.run(_compare(source, target, instants))
    code, out = _cli(capsys, "--store", source, "copy", "--to", target)  # a rerun finds everything there
    assert code == 0 and "already there 243," in out and "equal" in out, out


def test_a_dump_as_of_holds_the_books_of_that_instant(
    ledgers: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = ledgers
    instants = asyncio.run(_fill(source, FixedClock(UNTIL)))
    as_of = instants[1].isoformat()
    dump = tmp_path / "then.jsonl"
    assert _cli(capsys, "--store", source, "dump", str(dump), "--as-of", as_of)[0] == 0
    assert _cli(capsys, "--store", target, "schema", "apply")[0] == 0
    code, out = _cli(capsys, "--store", target, "restore", str(dump))
    assert code == 0 and "new 120," in out, out
    code, then = _cli(capsys, "--store", source, "digest", "--as-of", as_of)
    assert code == 0
    code, restored = _cli(capsys, "--store", target, "digest")
    assert then.split()[1] == restored.split()[1]

    async def same_balances() -> None:
        source_engine, target_engine = _engine(source), _engine(target)
        await source_engine.connect()
        await target_engine.connect()
        for address in await target_engine.accounts():
            then_rows = await source_engine.balance(address, as_of=instants[1])
            assert await target_engine.balance(address) == then_rows
        await source_engine.close()
        await target_engine.close()

    asyncio.run(same_balances())


def test_restore_refuses_a_ledger_holding_other_sets_and_writes_nothing(
    store_kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = _url("sqlite", tmp_path / "source"), _url(store_kind, tmp_path / "target")
    asyncio.run(_fill(source, FixedClock(UNTIL)))
    dump = tmp_path / "books.jsonl"
    assert _cli(capsys, "--store", source, "dump", str(dump))[0] == 0
    assert _cli(capsys, "--store", target, "schema", "apply")[0] == 0
    other = tmp_path / "other.json"
    other.write_text((REPO / "sample_data" / "transaction.json").read_text())
    assert _cli(capsys, "--store", target, "post", str(other))[0] == 0
    before = _cli(capsys, "--store", target, "digest")[1]
    code, out = _cli(capsys, "--store", target, "restore", str(dump))
    assert code == 1 and "already holds entry sets" in out and "Traceback" not in out, out
    assert _cli(capsys, "--store", target, "digest")[1] == before
    assert "sets 1 " in before
    if target.startswith("cassandra"):
        JANITOR.give_back(target)


def test_restore_killed_midway_then_rerun_is_exact(store_kind: str, tmp_path: Path) -> None:
    source, target = _url("sqlite", tmp_path / "source"), _url(store_kind, tmp_path / "target")

    async def fill() -> BooksDigest:
        engine = _engine(source)
        await engine.connect()
        every = list(generated_sets(12_000, months=6, until=UNTIL, seed=43))
        for start in range(0, len(every), 2000):
            await engine.record_batch(every[start : start + 2000])
        digest = await engine.books().digest()
        await engine.close()
        return digest

    wanted = asyncio.run(fill())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ledger_tui"]
    dump = tmp_path / "books.jsonl"
    subprocess.run([*command, "--store", source, "dump", str(dump)], env=env, check=True, capture_output=True)
    subprocess.run([*command, "--store", target, "schema", "apply"], env=env, check=True, capture_output=True)
    restorer = subprocess.Popen(
        [*command, "--store", target, "restore", str(dump), "--chunk", "200"], env=env, start_new_session=True
    )
    wait_until_writing(target, restorer)
    assert restorer.poll() is None, "the restore finished before it could be killed: use a bigger dump"
    os.killpg(restorer.pid, signal.SIGKILL)
    restorer.wait()
    rerun = subprocess.run(
        [*command, "--store", target, "restore", str(dump)], env=env, capture_output=True, text=True
    )
    assert rerun.returncode == 0 and "(resumed)" in rerun.stdout and "equal" in rerun.stdout, rerun.stdout
    assert "already there 0," not in rerun.stdout  # it really was cut short, then completed
    digest = subprocess.run([*command, "--store", target, "digest"], env=env, capture_output=True, text=True)
    assert f"digest: {wanted.hexdigest}  sets {wanted.sets}" in digest.stdout
    verify = subprocess.run([*command, "--store", target, "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout
    if target.startswith("cassandra"):
        JANITOR.give_back(target)
