"""One hot account at volume through `ledger-tui import`, then every partition counted on the node.

One run on one node: a fresh ledger whose claim shards keep sets/shards under half the bound and
whose rollup parts keep the customers' share of one account-tree partition under half the bound
(both URL settings fixed at creation), the hot account split beforehand (`layout split --now`,
month buckets, enough subs for entries/subs under half the bound), then N two-leg sets (default
300,000) all effective in ONE calendar month (by default the last whole UTC month, so no entry is
future-dated), each with one leg on the hot account and one on one of 5,000 ordinary customer
accounts, imported by the real CLI. Then the census (bench/partition_census.py): every table's
largest partition beside the bound, as a ratio, and the import's time (entries/s).

Usage: python bench/hot_import.py [--sets N] [--bound ROWS] [--host H:P] [--keep]
       [--subs N] [--shards S] [--rollup-parts P] [--customers C] [--month YYYY-MM] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: `bench` importable

from bench.partition_census import DEFAULT_BOUND, TableFigures, census, connect, figures, print_figures

HOT = "fintech_uk/com.fintech.merchant/settlement/GBP/main"
CUSTOMER = "fintech_uk/com.fintech.customer/current/GBP"
CUSTOMERS = 5000
DEFAULT_SETS = 300_000
#: One set in this many is a refund (the hot account pays the customer back), so the hot
#: account has debits as well as credits.
REFUND_EVERY = 10
_FIELDS = ("legal_entity", "namespace", "name", "currency", "account_id")


def under_half(rows: int, bound: int) -> int:
    """The fewest parts that keep ``rows`` / parts under half of ``bound``."""
    return 2 * rows // bound + 1


def last_whole_month(now: datetime | None = None) -> str:
    """The UTC month before the current one, as YYYY-MM."""
    now = now or datetime.now(UTC)
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def month_span_ms(month: str) -> tuple[int, int]:
    """The half-open epoch-millisecond span of a YYYY-MM month."""
    year, number = int(month[:4]), int(month[5:7])
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class HotSet:
    """One generated set: a customer and the hot account, one leg each, the same amount."""

    transaction_id: uuid.UUID
    effective_ms: int
    customer: str
    amount: Decimal
    #: The hot account's side: credit (a payment to it) or debit (a refund from it).
    hot_side: str

    @property
    def customer_side(self) -> str:
        return "debit" if self.hot_side == "credit" else "credit"

    def line(self) -> str:
        """The set as one JSON Lines line of `ledger-tui import`."""

        def leg(address: str, side: str) -> dict[str, object]:
            where = dict(zip(_FIELDS, address.split("/"), strict=True))
            return {"address": where, "amount": str(self.amount), "type": side,
                    "description": "card payment" if self.hot_side == "credit" else "refund",
                    "timestamp": self.effective_ms}  # fmt: skip

        legs = [leg(self.customer, self.customer_side), leg(HOT, self.hot_side)]
        return json.dumps({"transaction_id": str(self.transaction_id), "entries": legs})


def hot_sets(count: int, customers: int, month: str, seed: int = 7) -> Iterator[HotSet]:
    """``count`` sets effective at random instants of ``month``, each between one of
    ``customers`` customer accounts and the hot account."""
    chooser = random.Random(seed)
    start, end = month_span_ms(month)
    for number in range(count):
        yield HotSet(
            transaction_id=uuid.UUID(int=chooser.getrandbits(128), version=4),
            effective_ms=chooser.randrange(start, end),
            customer=f"{CUSTOMER}/c{chooser.randrange(customers):05d}",
            amount=Decimal(chooser.randrange(1, 100_000)).scaleb(-2),
            hot_side="debit" if number % REFUND_EVERY == REFUND_EVERY - 1 else "credit",
        )


def write_jsonl(path: Path, sets: Iterable[HotSet]) -> Path:
    """The sets as a JSON Lines file for `ledger-tui import`."""
    with path.open("w") as out:
        out.writelines(s.line() + "\n" for s in sets)
    return path


def ledger_cli(store: str, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """Run `ledger-tui --store STORE ARGS...` (this interpreter's package); fails loudly."""
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "ledger_tui", "--store", store, *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"ledger-tui {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def import_rate(output: str) -> tuple[float, float]:
    """Seconds and entries/s as `ledger-tui import` reports them."""
    found = re.search(r"seconds ([\d.]+)\s+entries/s ([\d,]+)", output)
    if found is None:
        raise RuntimeError(f"no rate in the import's output: {output!r}")
    return float(found.group(1)), float(found.group(2).replace(",", ""))


def drop(host: str, port: int, keyspace: str) -> None:
    cluster, session = connect(host, port)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=300)
    finally:
        cluster.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_host = os.environ.get("LEDGER_TEST_CASSANDRA", "127.0.0.1:9042")
    parser.add_argument("--sets", type=int, default=DEFAULT_SETS, help="sets (default %(default)s)")
    parser.add_argument(
        "--bound", type=int, default=DEFAULT_BOUND, help="rows per partition (default %(default)s)"
    )
    parser.add_argument("--host", default=default_host, help="the node, H:P (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the keyspace (else dropped)")
    parser.add_argument("--subs", type=int, help="hot account subs (default: entries/subs under bound/2)")
    parser.add_argument("--shards", type=int, help="claim shards (default: sets/shards under bound/2)")
    parser.add_argument(
        "--rollup-parts", type=int, help="rollup parts (default: customers/parts under bound/2)"
    )
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="customers (default %(default)s)")
    parser.add_argument("--month", default=last_whole_month(), help="the month (default: %(default)s)")
    parser.add_argument("--workers", type=int, help="import worker processes (default: the CLI's)")
    args = parser.parse_args(argv)
    host, _, port_text = args.host.rpartition(":")
    host, port = host or "127.0.0.1", int(port_text)
    subs = args.subs or under_half(args.sets, args.bound)
    shards = args.shards or under_half(args.sets, args.bound)
    customers = args.customers
    parts = args.rollup_parts or under_half(customers, args.bound)
    keyspace = f"bench_scale_{uuid.uuid4().hex[:8]}"
    store = f"cassandra://{host}:{port}/{keyspace}?claim_shards={shards}&rollup_parts={parts}"
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z: {args.sets:,} sets in {args.month}, each on {HOT} and one of "
        f"{customers:,} customers; hot account split into {subs} month subs (~{args.sets / subs:,.0f} "
        f"entries each), {shards} claim shards (~{args.sets / shards:,.0f} sets each), {parts} rollup "
        f"part(s) (~{customers / parts:,.0f} customers each); bound "
        f"{args.bound:,} rows; keyspace {keyspace} on {host}:{port}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        source = write_jsonl(Path(folder) / "sets.jsonl", hot_sets(args.sets, customers, args.month))
        try:
            ledger_cli(store, "schema", "apply")
            ledger_cli(store, "layout", "split", HOT, "--subs", str(subs), "--now")
            workers = ["--workers", str(args.workers)] if args.workers else []
            started = time.perf_counter()
            imported = ledger_cli(store, "import", str(source), *workers)
            wall = time.perf_counter() - started
            seconds, rate = import_rate(imported.stdout)
            print(imported.stdout.strip().splitlines()[-1], flush=True)
            started = time.perf_counter()
            cluster, session = connect(host, port)
            try:
                rows = figures(census(session, keyspace), args.bound)
            finally:
                cluster.shutdown()
            counted = time.perf_counter() - started
        finally:
            if not args.keep:
                drop(host, port, keyspace)
    print_figures(rows)
    worst = max(rows, key=lambda row: row.largest / row.bound)
    entries = 2 * args.sets
    print(
        f"largest partition: {worst.table} {worst.largest:,} rows = {worst.largest / worst.bound:.2f}x the "
        f"bound of {args.bound:,} ({'OK' if worst.ok else 'OVER'}); hot account: "
        f"{_largest(rows, 'ledger_entries'):,} rows in its largest sub = "
        f"{_largest(rows, 'ledger_entries') / args.bound:.2f}x (one partition a month would hold "
        f"{args.sets:,} = {args.sets / args.bound:.2f}x); claims: {_largest(rows, 'entry_sets'):,} "
        f"in the largest shard = {_largest(rows, 'entry_sets') / args.bound:.2f}x"
    )
    print(
        f"import: {entries:,} entries in {seconds:.1f} s by its own clock ({rate:,.0f} entries/s), "
        f"{wall:.1f} s wall with start-up and repair ({entries / wall:,.0f} entries/s); "
        f"census {counted:.1f} s" + ("" if not args.keep else f"; kept {keyspace}")
    )
    return 0 if all(row.ok for row in rows) else 1


def _largest(rows: Iterable[TableFigures], table: str) -> int:
    return next(row.largest for row in rows if row.table == table)


if __name__ == "__main__":
    raise SystemExit(main())
