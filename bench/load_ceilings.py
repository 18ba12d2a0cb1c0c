"""The driver's own write paths for bench/load.py, and waiting for the node to settle.

The ceilings the write-path issue judges our import and posts against: the same rows written by
the driver alone (no ledger rules), each path into a fresh table of its own keyspace, each timed
on a settled node (``settle``) and dropped once timed.
"""

from __future__ import annotations

import socket
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent
from cassandra.query import BatchStatement, BatchType

from ledger_tui.domain.model import EntrySet, RecordedTransaction
from ledger_tui.domain.timeutil import bucket_of, to_epoch_ms

NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
#: The ceiling tables' columns: those of ledger_entries, in the order ``entry_rows`` gives them.
_COLUMNS = (
    "legal_entity text, namespace text, name text, currency text, account_id text, "
    "time_bucket text, effective_at timestamp, transaction_id uuid, leg int, side text, "
    "amount decimal, description text, recorded_at timestamp"
)


def entry_rows(sets: list[EntrySet]) -> list[tuple[Any, ...]]:
    """The entries of ``sets`` as rows of a ceiling table (``_COLUMNS``), recorded now."""
    now = datetime.now(UTC)
    rows = []
    for entry_set in sets:
        recorded = RecordedTransaction(entry_set.transaction_id, entry_set.legs, entry_set.payload_hash, now)
        for e in recorded.entries():
            rows.append(
                (*e.address.as_tuple(), bucket_of(e.effective_at), to_epoch_ms(e.effective_at),
                 e.transaction_id, e.leg_index, e.side.value, e.amount, e.description,
                 to_epoch_ms(e.recorded_at))
            )  # fmt: skip
    return rows


#: The node's background pools (flushes and compactions): a timed path starts when all are idle.
_BACKGROUND = ("CompactionExecutor", "MemtableFlushWriter", "MemtablePostFlush", "MemtableReclaimMemory")


def settle(session: Any, limit_s: float = 90.0) -> None:
    """Wait until the node runs and queues no flush or compaction (three polls in a row).

    Why: a path timed while the node still flushes or compacts what the previous path wrote
    shares the two cores with that work. The unlogged ceiling, timed right after 43,000 single
    inserts, read 24,634-54,929 entries/s on a warm node; settled, 33,911-47,506 (still noisy,
    so the import's ratio is a median of rounds). Says so when the node never settles.
    """
    started = time.perf_counter()
    quiet = 0
    while quiet < 3:
        pools = session.execute("SELECT name, active_tasks, pending_tasks FROM system_views.thread_pools")
        background = [row for row in pools if row.name in _BACKGROUND]
        if len(background) != len(_BACKGROUND):
            raise SystemExit(f"the node does not list the pools {_BACKGROUND} in system_views.thread_pools")
        quiet = quiet + 1 if not any(row.active_tasks or row.pending_tasks for row in background) else 0
        if time.perf_counter() - started > limit_s:
            print(f"warning: the node was still flushing or compacting after {limit_s:g} s", file=sys.stderr)
            return
        time.sleep(0.3)


class MachineCpu:
    """The machine's CPU over a timed path, from /proc/stat: busy and stolen, as shares of all.

    Why: client and node share two cores, so a path that keeps the machine ~100% busy is bounded
    by the CPU both use, not by waiting; and on a VM, time stolen by the host slows every path.
    """

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> list[int] | None:
        try:
            with open("/proc/stat") as stat:
                return [int(field) for field in stat.readline().split()[1:9]]
        except (OSError, ValueError):
            return None

    def shares(self) -> tuple[float, float] | None:
        """(busy, stolen) since this was made, each a share of all CPU time; None without /proc."""
        end = self._read()
        if self._start is None or end is None:
            return None
        user, nice, system, idle, iowait, irq, softirq, steal = (
            after - before for before, after in zip(self._start, end, strict=True)
        )
        total = user + nice + system + idle + iowait + irq + softirq + steal
        if total <= 0:
            return None
        return (user + nice + system + irq + softirq) / total, steal / total


class Ceilings:
    """The driver alone (no ledger rules) on a keyspace of its own, one table per timed path."""

    def __init__(self, host: str, port: int, sets: list[EntrySet]) -> None:
        self.keyspace = f"bench_ceiling_{uuid.uuid4().hex[:8]}"
        # TCP_NODELAY as our store sets it: the driver's best path on the same connection settings.
        self.cluster = Cluster([host], port=port, protocol_version=5, sockopts=NODELAY)
        self.session = self.cluster.connect()
        self.session.execute(
            f"CREATE KEYSPACE {self.keyspace} "
            "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        self.sets = sets
        self.rows = entry_rows(sets)
        #: The machine's (busy, stolen) CPU shares over the last timed path (None without /proc).
        self.last_cpu: tuple[float, float] | None = None

    def _table(self, name: str) -> Any:
        """A fresh entries table and its prepared INSERT."""
        key = "PRIMARY KEY ((legal_entity, namespace, name, currency, account_id, time_bucket), "
        key += "effective_at, transaction_id, leg)"
        self.session.execute(f"CREATE TABLE {self.keyspace}.{name} ({_COLUMNS}, {key})")
        names = [column.split()[0] for column in _COLUMNS.split(", ")]
        marks = ", ".join("?" * len(names))
        insert = f"INSERT INTO {self.keyspace}.{name} ({', '.join(names)}) VALUES ({marks})"
        return self.session.prepare(insert)

    def _timed(self, statements: list[Any], concurrency: int = 64, values: list[Any] | None = None) -> float:
        """Seconds to run ``statements`` (with ``values``, one per statement, if given) with
        ``concurrency`` in flight, on a settled node; the machine's CPU shares go to last_cpu."""
        settle(self.session)
        pairs = list(zip(statements, values or [None] * len(statements), strict=True))
        cpu = MachineCpu()
        started = time.perf_counter()
        done = [ok for ok, _ in execute_concurrent(self.session, pairs, concurrency=concurrency)]
        seconds = time.perf_counter() - started
        self.last_cpu = cpu.shares()
        assert all(done)
        return seconds

    def unlogged(self, name: str) -> tuple[float, float]:
        """Seconds of per-partition UNLOGGED batches of <= 25 rows (64 in flight) into a fresh
        table, and seconds the driver took to bind them (not counted in the first)."""
        insert = self._table(f"e_unlogged_{name}")
        building = time.perf_counter()
        by_partition: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for row in self.rows:
            by_partition[row[:6]].append(row)
        batches = []
        for members in by_partition.values():
            for i in range(0, len(members), 25):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for row in members[i : i + 25]:
                    batch.add(insert, row)
                batches.append(batch)
        binding = time.perf_counter() - building
        seconds = self._timed(batches)
        self._drop(f"e_unlogged_{name}")
        return seconds, binding

    def warm_up(self, most: int = 10) -> list[float]:
        """Seconds of unlogged ceiling runs until the last three are each within 15% of the
        fastest so far (at most ``most``). Why: right after a node starts, its JIT keeps the
        ceiling climbing, unevenly, for many runs (16,269, 25,370, 30,583, 20,559, then 28,628,
        33,891, 42,804 entries/s), and ``make bench-load`` starts the node just before the run."""
        seconds: list[float] = []
        while len(seconds) < most:
            seconds.append(self.unlogged(f"warm_{len(seconds)}")[0])
            if len(seconds) >= 3 and max(seconds[-3:]) <= min(seconds) * 1.15:
                break
        return seconds

    def rows_logged_lwt(self) -> dict[str, float]:
        """Seconds of one INSERT per row, LOGGED batches per set, and LWT claims alone."""
        results: dict[str, float] = {}
        insert_rows = self._table("e_rows")
        results["rows"] = self._timed([insert_rows] * len(self.rows), 256, self.rows)
        self._drop("e_rows")
        insert_logged = self._table("e_logged")
        logged = []
        position = 0
        for entry_set in self.sets:
            batch = BatchStatement(batch_type=BatchType.LOGGED)
            for row in self.rows[position : position + len(entry_set.legs)]:
                batch.add(insert_logged, row)
            position += len(entry_set.legs)
            logged.append(batch)
        results["logged"] = self._timed(logged)
        self._drop("e_logged")
        self.session.execute(
            f"CREATE TABLE {self.keyspace}.claims (transaction_id uuid PRIMARY KEY, legs text)"
        )
        claim = self.session.prepare(
            f"INSERT INTO {self.keyspace}.claims (transaction_id, legs) VALUES (?, ?) IF NOT EXISTS"
        )
        results["lwt"] = self._timed([claim.bind((s.transaction_id, "x" * 300)) for s in self.sets])
        self._drop("claims")
        return results

    def _drop(self, table: str) -> None:
        """Drop a table once its path is timed, so later paths meet a node holding none of its
        rows (a settled node may still hold them in memory, unflushed)."""
        self.session.execute(f"DROP TABLE IF EXISTS {self.keyspace}.{table}", timeout=120)

    def drop_keyspace(self, keyspace: str) -> None:
        """Drop a keyspace of the run (a ledger once its path is measured) on this session."""
        self.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)

    def close(self, leftovers: list[str]) -> None:
        """Drop the run's ``leftovers`` (keyspaces a failed path left) and this keyspace."""
        for keyspace in [*leftovers, self.keyspace]:
            self.drop_keyspace(keyspace)
        self.cluster.shutdown()
