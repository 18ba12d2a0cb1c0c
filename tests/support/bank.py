"""A bank workload for fault tests: concurrent transfers among a few accounts, every receipt logged.

Each worker posts two-leg transfers with fresh ids. A post that fails is retried with the SAME
id and payload (what a caller told "not confirmed, retry with the same id" does) until the
workload stops; such a set's outcome stays unknown until the ring is healed. After healing,
``check_ledger`` proves what the fault suite promises: every acknowledged set present exactly
once, per-currency sums zero, ``verify`` clean, fast balances equal to a full fold.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ledger_tui.domain.errors import LedgerError
from ledger_tui.domain.model import Side
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.engine import Engine

from .entry_sets import transfer

ACCOUNTS = [f"acc-{n}" for n in range(1, 5)]
CURRENCIES = ["GBP", "EUR"]
#: How many acknowledged sets the check reads back at once.
READS_IN_FLIGHT = 64


@dataclass(slots=True)
class Posting:
    """One transfer the workload tried: its document, when it was first tried and how it ended."""

    transaction_id: uuid.UUID
    document: str
    first_try: float
    acked_at: float | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def latency(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.first_try


@dataclass(slots=True)
class BankLog:
    """Every transfer tried, with phase marks (name, start time) set by the fault script."""

    postings: list[Posting] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)

    def mark(self, name: str) -> None:
        self.phases.append((name, time.monotonic()))

    @property
    def acked(self) -> list[Posting]:
        return [p for p in self.postings if p.acked_at is not None]

    @property
    def unknown(self) -> list[Posting]:
        return [p for p in self.postings if p.acked_at is None]

    def phase_window(self, name: str) -> tuple[float, float]:
        starts = [*self.phases, ("end", float("inf"))]
        for (phase, start), (_, end) in itertools.pairwise(starts):
            if phase == name:
                return start, end
        raise KeyError(name)

    def figures(self, phase: str | None = None) -> dict[str, float]:
        """Acks, longest gap between acks, p50/p99/max post latency (all, or one phase)."""
        start, end = (0.0, float("inf")) if phase is None else self.phase_window(phase)
        acks = sorted(p.acked_at for p in self.acked if p.acked_at is not None and start <= p.acked_at < end)
        latencies = sorted(
            p.latency for p in self.acked if p.latency is not None and start <= p.first_try < end
        )
        edges = [start, *acks] if phase is not None else acks
        if phase is not None and end != float("inf"):
            edges.append(end)
        gap = max((b - a for a, b in itertools.pairwise(edges)), default=0.0)

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

        return {"acks": len(acks), "gap_s": gap, "p50_s": pct(0.5), "p99_s": pct(0.99), "max_s": pct(1.0)}


def _document(rng: random.Random, effective: datetime) -> tuple[uuid.UUID, str]:
    debit, credit = rng.sample(ACCOUNTS, 2)
    transaction_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    amount = f"{rng.randint(1, 50000) / 100:.2f}"
    text = transfer(
        amount,
        to_epoch_ms(effective),
        debit=debit,
        credit=credit,
        currency=rng.choice(CURRENCIES),
        transaction_id=transaction_id,
    )
    return transaction_id, text


async def run_workers(
    engine: Engine,
    log: BankLog,
    stop: asyncio.Event,
    *,
    workers: int = 8,
    seed: int = 1,
    backoff: float = 0.1,
) -> None:
    """Post transfers from ``workers`` concurrent posters until ``stop`` is set."""
    effective = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)

    async def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while not stop.is_set():
            transaction_id, document = _document(rng, effective)
            posting = Posting(transaction_id, document, time.monotonic())
            log.postings.append(posting)
            while not stop.is_set():
                posting.attempts += 1
                try:
                    await engine.post_json(document)
                except LedgerError as error:
                    posting.errors.append(f"{type(error).__name__}: {str(error)[:160]}")
                    await asyncio.sleep(backoff)
                    continue
                posting.acked_at = time.monotonic()
                break

    await asyncio.gather(*(worker(n) for n in range(workers)))


@dataclass(slots=True)
class LedgerCheck:
    """What the healed ledger shows against the log."""

    acked_missing: list[uuid.UUID] = field(default_factory=list)
    acked_wrong: list[uuid.UUID] = field(default_factory=list)
    duplicate_rows: list[str] = field(default_factory=list)
    unexpected_sets: list[uuid.UUID] = field(default_factory=list)
    currency_sums: dict[str, Decimal] = field(default_factory=dict)
    fast_vs_fold: list[str] = field(default_factory=list)
    verify_problems: list[str] = field(default_factory=list)
    unknown_present: int = 0
    unknown_absent: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.acked_missing
            or self.acked_wrong
            or self.duplicate_rows
            or self.unexpected_sets
            or any(self.currency_sums.values())
            or self.fast_vs_fold
            or self.verify_problems
        )


async def check_ledger(engine: Engine, log: BankLog) -> LedgerCheck:
    """Compare the healed ledger with the log (reads at the store's consistency level)."""
    check = LedgerCheck()
    by_id = {p.transaction_id: p for p in log.postings}
    every_acked = log.acked
    for start in range(0, len(every_acked), READS_IN_FLIGHT):  # one read each, many in flight
        acked = every_acked[start : start + READS_IN_FLIGHT]
        stored = await asyncio.gather(
            *(engine.transaction(p.transaction_id) for p in acked), return_exceptions=True
        )
        for posting, found in zip(acked, stored, strict=True):
            if isinstance(found, LedgerError):
                check.acked_missing.append(posting.transaction_id)
            elif isinstance(found, BaseException):
                raise found
            elif len(found.legs) != 2:
                check.acked_wrong.append(posting.transaction_id)
    rows: Counter[str] = Counter()
    seen_sets: set[uuid.UUID] = set()
    sums: dict[str, Decimal] = {}
    for address in await engine.accounts():
        plain = Decimal(0)
        async for chunk in engine.iter_entries(address):
            for entry in chunk:
                rows[entry.entry_id] += 1
                seen_sets.add(entry.transaction_id)
                signed = entry.amount if entry.side is Side.CREDIT else -entry.amount
                plain += signed
                sums[address.currency] = sums.get(address.currency, Decimal(0)) + signed
        fast = [row for row in await engine.balance(address) if row.currency == address.currency]
        closing = fast[0].closing if fast else Decimal(0)
        if closing != plain:
            check.fast_vs_fold.append(f"{address}: fast balance {closing} vs full fold {plain}")
    check.duplicate_rows = [entry_id for entry_id, count in rows.items() if count > 1]
    check.unexpected_sets = [tid for tid in seen_sets if tid not in by_id]
    check.currency_sums = sums
    unknown_ids = {p.transaction_id for p in log.unknown}
    check.unknown_present = len(unknown_ids & seen_sets)
    check.unknown_absent = len(unknown_ids - seen_sets)
    report = await engine.verify()
    check.verify_problems = list(report.problems)
    return check
