"""dump, restore and copy carry the holds (each with its outcome, or none yet) and the limit history
(who and when) beside the sets: the restored ledger holds, bounds and refuses exactly as the source."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.address import parse_address
from ledger_tui.domain.dump import parse_set_line
from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer
from ..support.stores import FixedClock

PREFIX = "test_uk/com.test.customer/current/GBP"
CUSTOMER = parse_address(f"{PREFIX}/acc-1")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def _pay(engine: Engine, amount: str, payer: str = "acc-1", payee: str = "shop") -> object:
    text = transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())
    return parse_entry_set_json(text, engine.currencies)


async def _fill(url: str, clock: FixedClock) -> None:
    """Funds, two limit changes (one cleared), and holds in every state: pending, captured in
    part, voided, and expired without a sweep."""
    async with open_ledger(LedgerOptions(store=url, clock=clock)) as engine:
        await engine.post(_pay(engine, "100.00", payer="bank", payee="acc-1"))  # type: ignore[arg-type]
        await engine.limits().set(f"{PREFIX}/*", "0", None, "alice")
        clock.advance(seconds=1)
        await engine.limits().set(f"{PREFIX}/shop", None, "1000", "bob")
        clock.advance(seconds=1)
        await engine.limits().clear(f"{PREFIX}/shop", "bob")
        book = engine.holds()
        pending = await book.place(_pay(engine, "30.00"), expires_in=timedelta(days=2))  # type: ignore[arg-type]
        captured = await book.place(_pay(engine, "20.00"), expires_in=timedelta(hours=1))  # type: ignore[arg-type]
        voided = await book.place(_pay(engine, "5.00"), expires_in=timedelta(hours=1))  # type: ignore[arg-type]
        await book.place(_pay(engine, "7.00"), expires_in=timedelta(minutes=1))  # type: ignore[arg-type]
        clock.advance(seconds=5)
        await book.capture(captured.hold.hold_id, _pay(engine, "15.00"))  # type: ignore[arg-type]
        await book.void(voided.hold.hold_id)
        clock.advance(minutes=2)  # the 7.00 hold lapses; nobody sweeps
        assert pending.hold.hold_id


async def _state(url: str, clock: FixedClock) -> tuple[object, ...]:
    async with open_ledger(LedgerOptions(store=url, clock=clock)) as engine:
        holds = await engine.holds().all_holds()
        history = [(c.limit, c.changed_by, c.changed_at) for c in await engine.limits().history()]
        heads = await engine.limits().heads([CUSTOMER])
        pending = await engine.holds().pending()
        return holds, history, heads, pending, (await engine.books().digest()).hexdigest


def test_dump_restore_and_copy_carry_holds_and_limits(cli: Cli, tmp_path: Path) -> None:
    clock = FixedClock(START)
    source, restored, copied = (f"sqlite:{tmp_path / f'{name}.sqlite'}" for name in ("s", "r", "c"))
    asyncio.run(_fill(source, clock))
    dump = tmp_path / "books.jsonl"
    code, out = cli("--store", source, "dump", str(dump))
    assert code == 0 and "holds 4  limit changes 3" in out, out
    lines = dump.read_text().splitlines()
    assert sum(line.startswith('{"hold":') for line in lines) == 4
    assert sum(line.startswith('{"limit":') for line in lines) == 3
    code, out = cli("--store", restored, "restore", str(dump))
    assert code == 0 and "digest:" in out and "equal" in out, out
    assert "holds 4  limit changes 3  (new 7)" in out
    code, out = cli("--store", source, "copy", "--to", copied)
    assert code == 0 and "equal" in out and "(new 7)" in out, out
    expected = asyncio.run(_state(source, clock))
    assert expected[3][CUSTOMER].debits == Decimal("30.00")  # type: ignore[index]  # only the open hold
    assert asyncio.run(_state(restored, clock)) == expected
    assert asyncio.run(_state(copied, clock)) == expected
    code, out = cli("--store", restored, "restore", str(dump))  # a rerun adds nothing
    assert "(new 0)" in out, out

    async def bounded(url: str) -> None:  # the restored limit refuses as the source's does
        async with open_ledger(LedgerOptions(store=url, clock=clock)) as engine:
            with pytest.raises(LimitExceeded) as refused:
                await engine.post(_pay(engine, "55.01"))  # type: ignore[arg-type]
            assert refused.value.available == Decimal("55.00")  # 100 - 15 captured - 30 held

    for url in (source, restored, copied):
        asyncio.run(bounded(url))


def test_a_hold_line_is_refused_where_holds_cannot_go_naming_it() -> None:
    line = json.dumps({"hold": {"transaction_id": str(uuid.uuid4())}})
    with pytest.raises(ValidationError, match="hold"):
        parse_set_line(line)
