"""Online posts with limits and holds beside the same posts without them, in one run.

On fresh embedded ledgers, the same two-leg sets (a customer pays a merchant) posted online
through the engine, 64 in flight, in this order:
- unbounded: no limit anywhere (the baseline of the run);
- one hot bounded account: every set debits one customer with ``--min 0`` (funded first), so
  every write checks and moves one head;
- 1,000 bounded accounts: ``…/customer/current/GBP/*`` with ``--min 0`` over 1,000 funded
  customers;
- holds: each set placed as a hold and then captured (two writes per set) on the bounded accounts;
- import of the same sets into a ledger without limits and into one with the 1,000 bounded.
Printed: sets/s of each and the ratios the issue judges them by (one hot bounded account >= 500
sets/s; 1,000 bounded >= 0.5x unbounded; import with limits within noise of without).
With ``--cassandra HOST:PORT`` each ledger is a new keyspace on that node. ``--only-unbounded``
measures just the unbounded online and import paths: run it with PYTHONPATH at an older
checkout for the before/after of a change.
Usage: python bench/holds.py [--sets N] [--hold-sets N] [--cassandra HOST:PORT] [--only-unbounded]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger

PREFIX = "fintech_uk/com.fintech.customer/current/GBP"
IN_FLIGHT = 64
#: Where the ledgers go: a folder of SQLite files, or a Cassandra node (set by main).
TARGET: dict[str, str] = {}


def _url(folder: Path, name: str) -> str:
    node = TARGET.get("cassandra")
    if node is None:
        return f"sqlite:{folder / name}.sqlite"
    return f"cassandra://{node}/bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"


async def _opened(engine: Engine) -> Engine:
    if "cassandra" in TARGET:
        await engine.apply_schema()
    return engine


def _set(customer: str, merchant: int, amount: Decimal, txid: uuid.UUID | None = None) -> str:
    def leg(namespace: str, name: str, account: str, side: str) -> dict[str, object]:
        address = {"legal_entity": "fintech_uk", "namespace": namespace, "name": name,
                   "currency": "GBP", "account_id": account}  # fmt: skip
        return {"address": address, "type": side, "amount": str(amount)}

    return json.dumps({
        "transaction_id": str(txid or uuid.uuid4()),
        "entries": [leg("com.fintech.customer", "current", customer, "debit"),
                    leg("com.fintech.merchant", "settlement", f"m{merchant:04d}", "credit")],
    })  # fmt: skip


def _bodies(sets: int, customers: int) -> list[str]:
    return [_set(f"c{n % customers:05d}", n % 97, Decimal(n % 900 + 1) / 100) for n in range(sets)]


def _funding(customer: int) -> str:
    def leg(namespace: str, name: str, account: str, side: str) -> dict[str, object]:
        address = {"legal_entity": "fintech_uk", "namespace": namespace, "name": name,
                   "currency": "GBP", "account_id": account}  # fmt: skip
        return {"address": address, "type": side, "amount": "1000000.00"}

    legs = [leg("com.fintech.bank", "cash", "main", "debit"),
            leg("com.fintech.customer", "current", f"c{customer:05d}", "credit")]  # fmt: skip
    return json.dumps({"entries": legs})


async def _fund(engine: Engine, customers: int) -> None:
    await engine.record_batch(
        [parse_entry_set_json(_funding(n), engine.currencies) for n in range(customers)]
    )


async def _timed(jobs: list[Callable[[], Awaitable[object]]]) -> float:
    """Seconds to run ``jobs`` with IN_FLIGHT at a time."""
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return time.perf_counter() - started


async def _online(folder: Path, name: str, bodies: list[str], customers: int, bounded: bool,
                  holds: bool = False) -> float:  # fmt: skip
    async with open_ledger(LedgerOptions(store=_url(folder, name))) as engine:
        await _opened(engine)
        await _fund(engine, customers)
        if bounded:
            await engine.limits().set(f"{PREFIX}/*", "0", None, "bench")
        sets = [parse_entry_set_json(body, engine.currencies) for body in bodies]
        if not holds:
            seconds = await _timed([lambda s=s: engine.post(s) for s in sets])
        else:
            book = engine.holds()

            async def hold_then_capture(entry_set: object) -> None:
                placed = await book.place(entry_set)  # type: ignore[arg-type]
                await book.capture(placed.hold.hold_id)

            seconds = await _timed([lambda s=s: hold_then_capture(s) for s in sets])
        report = await engine.verify()
        assert report.ok, report.problems[:3]
        return len(bodies) / seconds


def _import(folder: Path, name: str, bodies: list[str], customers: int, bounded: bool) -> float:
    url = _url(folder, name)

    async def prepare() -> None:
        async with open_ledger(LedgerOptions(store=url)) as engine:
            await _opened(engine)
            await _fund(engine, customers)
            if bounded:
                await engine.limits().set(f"{PREFIX}/*", "0", None, "bench")

    asyncio.run(prepare())
    lines = folder / f"{name}.jsonl"
    lines.write_text("\n".join(bodies) + "\n", encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ledger_tui", "--store", url, "import", str(lines)],
                          capture_output=True, text=True, timeout=3600)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"import into {url} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return len(bodies) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", type=int, default=20_000)
    parser.add_argument("--cassandra", metavar="HOST:PORT", help="ledgers as keyspaces on this node")
    parser.add_argument("--only-unbounded", action="store_true", help="the unbounded paths only")
    parser.add_argument(
        "--hold-sets", type=int, default=5000, help="sets of the holds path (two writes each; default 5000)"
    )
    args = parser.parse_args()
    if args.cassandra:
        TARGET["cassandra"] = args.cassandra
    where = f"Cassandra node {args.cassandra}" if args.cassandra else "embedded store"
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"# bench/holds.py {started} on {platform.node()}, {os.cpu_count()} cores, {args.sets} two-leg "
          f"sets per path, {IN_FLIGHT} in flight, {where}")  # fmt: skip
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        many, hot = _bodies(args.sets, 1000), _bodies(args.sets, 1)
        free = asyncio.run(_online(folder, "free", many, 1000, bounded=False))
        rates = {"unbounded, 1,000 customers": free}
        if not args.only_unbounded:
            rates["one hot bounded account"] = asyncio.run(_online(folder, "hot", hot, 1, bounded=True))
            rates["1,000 bounded accounts"] = asyncio.run(_online(folder, "many", many, 1000, bounded=True))
            held = many[: args.hold_sets]
            rates["holds placed then captured, 1,000 bounded"] = asyncio.run(
                _online(folder, "holds", held, 1000, bounded=True, holds=True)
            )
        rates["import, no limits"] = _import(folder, "import-free", many, 1000, bounded=False)
        if not args.only_unbounded:
            rates["import, 1,000 bounded accounts"] = _import(folder, "import-many", many, 1000, bounded=True)
    base = rates["unbounded, 1,000 customers"]
    for name, rate in rates.items():
        print(f"{name:<44} {rate:>10,.0f} sets/s   {rate / base:5.2f}x unbounded online")
    if args.only_unbounded:
        return
    print(
        f"targets: one hot bounded >= 500 sets/s: {rates['one hot bounded account']:,.0f}; "
        f"1,000 bounded >= 0.5x unbounded: {rates['1,000 bounded accounts'] / base:.2f}x; "
        f"import with limits / without: "
        f"{rates['import, 1,000 bounded accounts'] / rates['import, no limits']:.2f}x"
    )


if __name__ == "__main__":
    main()
