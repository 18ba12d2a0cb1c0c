"""Split accounts: whatever partitions a hot account's entries are spread over, and however its
layout changed, every read (browse pages, balances, as-of, blocks, verify) equals a full fold of
what was posted; on Cassandra the rows really are spread; a bad split is refused by field."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.address import parse_address
from ledger_tui.domain.dump import parse_header
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.layout import AccountLayout
from ledger_tui.domain.model import Entry
from ledger_tui.domain.timeutil import TimeRange, from_epoch_ms, to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger
from ledger_tui.store.base import Store
from ledger_tui.store.url import SqliteUrl, parse_store_url

from ..support.entry_sets import entry_set, leg
from ..support.stores import FixedClock, run_cql, store_url

HOT = "fin_uk/com.fin.house/settlement/GBP/main"
HOT_ADDRESS = parse_address(HOT)
#: 2024-10-01T00:00Z and 2024-11-01T00:00Z: sets fall in two months, many on one millisecond.
OCTOBER, NOVEMBER = 1727740800000, 1730419200000


def _set(rng: random.Random, n: int, sets: list[tuple[uuid.UUID, int, list[Decimal]]]) -> str:
    """A set with one or two legs on the hot account (credits) and one customer debit."""
    txid = uuid.UUID(int=rng.getrandbits(128), version=4)
    when = rng.choice([OCTOBER + 5_000, NOVEMBER + 7_000, OCTOBER + rng.randrange(30 * 86_400_000)])
    amounts = [Decimal(rng.randrange(1, 10_000)) / 100 for _ in range(rng.choice([1, 1, 2]))]
    hot = HOT.split("/")
    legs = [
        leg("credit", str(a), entity=hot[0], namespace=hot[1], name=hot[2], account=hot[4], timestamp=when)
        for a in amounts
    ]
    legs.append(leg("debit", str(sum(amounts)), account=f"c{n % 7}", timestamp=when))
    sets.append((txid, when, amounts))
    return entry_set(*legs, transaction_id=txid)


async def _all_entries(engine: Engine, page_size: int, time_range: TimeRange = TimeRange()) -> list[Entry]:
    found: list[Entry] = []
    token = None
    while True:
        page = await engine.entries(HOT_ADDRESS, time_range, page_size, token)
        found += page.items
        token = page.next_token
        if token is None:
            return found


async def _post_in_three_layouts(
    engine: Engine, clock: FixedClock
) -> list[tuple[uuid.UUID, int, list[Decimal]]]:
    """Posts under no split, then a month split in 4, then hour buckets in 3 (same months)."""
    rng = random.Random(7)
    sets: list[tuple[uuid.UUID, int, list[Decimal]]] = []
    for n in range(30):
        await engine.post_json(_set(rng, n, sets))
    await engine.layouts().split(HOT, 4, at_once=True)
    for n in range(30, 90):
        await engine.post_json(_set(rng, n, sets))
    clock.advance(seconds=1)
    await engine.layouts().split(HOT_ADDRESS, 3, "hour", at_once=True)
    for n in range(90, 150):
        await engine.post_json(_set(rng, n, sets))
    return sets


async def test_every_read_of_a_split_account_equals_a_full_fold(engine: Engine, clock: FixedClock) -> None:
    sets = await _post_in_three_layouts(engine, clock)
    expected = Counter((txid, when, leg) for txid, when, amounts in sets for leg in range(len(amounts)))
    total = sum((a for _txid, _when, amounts in sets for a in amounts), Decimal(0))
    for page_size in (1, 7, 500):
        listed = await _all_entries(engine, page_size)
        assert (
            Counter((e.transaction_id, to_epoch_ms(e.effective_at), e.leg_index) for e in listed) == expected
        )
        times = [e.effective_at for e in listed]
        assert times == sorted(times)
    october = TimeRange(from_epoch_ms(OCTOBER + 5_000), from_epoch_ms(NOVEMBER))
    inside = await _all_entries(engine, 3, october)
    assert len(inside) == sum(
        n for (_t, when, _l), n in expected.items() if OCTOBER + 5_000 <= when < NOVEMBER
    )
    assert await engine.buckets(HOT_ADDRESS) == ["2024-10", "2024-11"]
    rows = await engine.balance(HOT_ADDRESS)
    assert rows[0].credits == total and rows[0].count == sum(expected.values())
    clock.advance(days=40)  # every day settled: balances come from blocks, which must agree
    await engine.seal()
    assert (await engine.balance(HOT_ADDRESS))[0].credits == total
    report = await engine.verify()
    assert report.ok, report.problems


async def test_as_of_a_split_sees_what_was_recorded_by_then(engine: Engine, clock: FixedClock) -> None:
    rng = random.Random(3)
    sets: list[tuple[uuid.UUID, int, list[Decimal]]] = []
    for n in range(20):
        await engine.post_json(_set(rng, n, sets))
    before = sum((a for _t, _w, amounts in sets for a in amounts), Decimal(0))
    then = clock.now
    clock.advance(seconds=5)
    await engine.layouts().split(HOT, 5, "day", at_once=True)
    for n in range(20, 60):
        await engine.post_json(_set(rng, n, sets))
    assert (await engine.balance(HOT_ADDRESS, as_of=then))[0].credits == before
    assert (await engine.balance(HOT_ADDRESS))[0].credits == sum(
        (a for _t, _w, amounts in sets for a in amounts), Decimal(0)
    )


async def test_a_split_takes_effect_after_its_margin(
    engine: Engine, clock: FixedClock, ledger_url: str
) -> None:
    change = await engine.layouts().split(HOT, 8)
    assert change.since == clock.now + timedelta(minutes=2)
    rng = random.Random(5)
    sets: list[tuple[uuid.UUID, int, list[Decimal]]] = []
    await engine.post_json(_set(rng, 0, sets))
    clock.advance(minutes=3)
    for n in range(1, 40):
        await engine.post_json(_set(rng, n, sets))
    assert len(await _all_entries(engine, 9)) == sum(len(a) for _t, _w, a in sets)
    if isinstance(parse_store_url(ledger_url), SqliteUrl):
        return
    partitions = _partitions(ledger_url)
    plain = [p for p in partitions if "~" not in p]
    assert plain and len(partitions) > len(plain)  # the first set before the change, the rest split
    assert all(p.split("~")[1] in {f"{i:03d}" for i in range(8)} for p in partitions if "~" in p)


def _partitions(ledger_url: str) -> list[str]:
    rows = run_cql(
        ledger_url,
        "SELECT time_bucket FROM {ks}.account_buckets WHERE legal_entity = 'fin_uk' "
        "AND namespace = 'com.fin.house' AND name = 'settlement' AND currency = 'GBP' AND account_id = 'main'",
    )
    return [str(row[0]) for row in rows]


@pytest.mark.parametrize(
    ("subs", "bucket", "field"),
    [(0, "month", "subs"), (257, "month", "subs"), (4, "week", "bucket"), (True, "month", "subs")],
)
async def test_a_bad_split_is_refused_by_field_and_nothing_is_recorded(
    engine: Engine, subs: int, bucket: str, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await engine.layouts().split(HOT, subs, bucket, at_once=True)
    assert [p.field for p in refused.value.problems] == [field]
    with pytest.raises(ValidationError) as refused:
        await engine.layouts().split("fin_uk/com.fin.house/settlement", 4)
    assert refused.value.problems[0].field.startswith("account")
    assert await engine.layouts().history() == []
    await engine.layouts().split(HOT, 4, at_once=True)
    with pytest.raises(ValidationError, match="already split by month into 4"):
        await engine.layouts().split(HOT, 4, at_once=True)
    assert len(await engine.layouts().history()) == 1


def test_layout_commands_split_and_show(
    ledger_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--store", ledger_url, "schema", "apply"]) == 0
    assert main(["--store", ledger_url, "layout", "show"]) == 0
    assert "no account is split" in capsys.readouterr().out
    assert main(["--store", ledger_url, "layout", "split", HOT, "--subs", "16", "--bucket", "day"]) == 0
    out = capsys.readouterr().out
    assert HOT in out and "day buckets of 16 partition(s)" in out
    assert main(["--store", ledger_url, "layout", "show", "--json"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["account"], s["bucket"], s["subs"]) for s in shown] == [(HOT, "day", 16)]
    assert main(["--store", ledger_url, "layout", "split", HOT, "--subs", "0"]) != 0
    captured = capsys.readouterr()
    assert "subs" in captured.err and "Traceback" not in captured.err
    assert main(["--store", ledger_url, "layout", "rows"]) == 0
    assert "pass 50,000 rows" in capsys.readouterr().out
    assert main(["--store", ledger_url, "layout", "rows", "20000"]) == 0
    assert main(["--store", ledger_url, "layout", "rows"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("pass 20,000 rows")
    assert main(["--store", ledger_url, "layout", "rows", "500"]) != 0
    captured = capsys.readouterr()
    assert "rows: must be a whole number" in captured.err and "Traceback" not in captured.err


async def test_sealing_splits_an_account_whose_busiest_day_outgrows_its_partitions(
    engine: Engine, clock: FixedClock
) -> None:
    assert await engine.layouts().set_partition_rows(1000) == 1000  # the smallest size allowed
    rng = random.Random(9)
    sets: list[tuple[uuid.UUID, int, list[Decimal]]] = []
    day = OCTOBER + 3 * 86_400_000
    for n in range(150):  # 150 to 300 legs on the hot account in one day: under 10,000 a month
        document = _set(rng, n, sets).replace(f'"timestamp": {sets[-1][1]}', f'"timestamp": {day + n}')
        await engine.post_json(document)
    legs = sum(len(amounts) for _t, _w, amounts in sets)
    assert 1000 < legs * 31 < 10_000
    clock.advance(days=40)
    report = await engine.seal()
    (change,) = report.splits
    assert (change.address, change.bucket, change.subs) == (HOT_ADDRESS, "month", -(-legs * 31 // 1000))
    assert change.since == clock.now + timedelta(minutes=2)
    assert await engine.layouts().history() == [change]
    assert (await engine.seal()).splits == []  # a second run finds the split made
    clock.advance(minutes=3)
    for n in range(150, 180):
        await engine.post_json(_set(rng, n, sets))
    assert len(await _all_entries(engine, 50)) == sum(len(a) for _t, _w, a in sets)


async def test_a_dump_and_a_copy_carry_the_layouts(engine: Engine, ledger_url: str, tmp_path: Path) -> None:
    rng = random.Random(4)
    sets: list[tuple[uuid.UUID, int, list[Decimal]]] = []
    await engine.layouts().split(HOT, 6, "day", at_once=True)
    await engine.layouts().set_partition_rows(20_000)
    for n in range(40):
        await engine.post_json(_set(rng, n, sets))
    history = await engine.layouts().history()
    dump = tmp_path / "books.dump"
    assert await asyncio.to_thread(main, ["--store", ledger_url, "dump", str(dump)]) == 0
    kind = "sqlite" if isinstance(parse_store_url(ledger_url), SqliteUrl) else "cassandra"
    restored, copied = store_url(kind, tmp_path / "restored"), store_url(kind, tmp_path / "copied")
    (tmp_path / "restored").mkdir()
    (tmp_path / "copied").mkdir()
    assert await asyncio.to_thread(main, ["--store", restored, "schema", "apply"]) == 0
    assert await asyncio.to_thread(main, ["--store", restored, "restore", str(dump)]) == 0
    assert await asyncio.to_thread(main, ["--store", ledger_url, "copy", "--to", copied]) == 0
    for url in (restored, copied):
        async with open_ledger(LedgerOptions(store=url)) as other:
            assert await other.layouts().history() == history
            assert await other.layouts().partition_rows() == 20_000  # it splits as the source would
            assert len(await _all_entries(other, 11)) == sum(len(a) for _t, _w, a in sets)
        if kind == "cassandra":
            assert sorted(_partitions(url)) == sorted(_partitions(ledger_url))


def test_a_dump_header_with_a_bad_layout_is_refused_by_field() -> None:
    header = {
        "format": "ledger-tui dump",
        "version": 1,
        "dump_id": str(uuid.uuid4()),
        "layouts": [{"account": HOT, "since": "2026-12-07T10:00:00Z", "bucket": "day", "subs": 999}],
    }
    with pytest.raises(ValidationError) as refused:
        parse_header(json.dumps(header))
    assert [p.field for p in refused.value.problems] == ["header.layouts[0].subs"]
    header["layouts"] = [{"account": "x/y", "since": "soon", "bucket": 3, "subs": "4"}]
    with pytest.raises(ValidationError) as refused:
        parse_header(json.dumps(header))
    assert refused.value.problems[0].field.startswith("header.layouts[0]")
    header["layouts"] = [{"account": HOT, "since": "2026-12-07T10:00:00Z", "bucket": "day", "subs": 12}]
    assert parse_header(json.dumps(header)).layouts[0].subs == 12
    for rows in ("999", "1000001", "9" * 5000, "-5", 20000):
        header["settings"] = {"partition_rows": rows}
        with pytest.raises(ValidationError) as refused:
            parse_header(json.dumps(header))
        assert refused.value.problems[0].field.startswith("header.settings"), rows
    header["settings"] = {"partition_rows": "20000"}
    assert parse_header(json.dumps(header)).settings == {"partition_rows": "20000"}


async def test_a_second_change_for_one_account_and_time_keeps_the_first(store: Store) -> None:
    first = AccountLayout(HOT_ADDRESS, from_epoch_ms(OCTOBER), "day", 4)
    assert await store.record_layout(first) == first
    assert await store.record_layout(AccountLayout(HOT_ADDRESS, first.since, "hour", 9)) == first
    assert await store.read_layouts() == [first]
