"""Every row a recorded transaction implies, computed once for both stores and every write path.

The claim (the transaction row) is the commit record; these rows are its materialisation:
entries, the account-tree and bucket indexes, day activity for rollups, and late marks. All are
functions of the transaction alone (and the ledger's seal horizon), so writing them is
idempotent and a retry or a repair writes exactly the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .blocks import SealPolicy, account_node, day_of, node_key, rollup_node
from .model import Address, Entry, RecordedTransaction
from .timeutil import bucket_of_day


@dataclass(frozen=True, slots=True)
class Materialisation:
    """The rows of one or more transactions, de-duplicated where they are index rows."""

    entries: list[Entry]
    tree: set[tuple[str, str]]
    buckets: set[tuple[Address, str]]
    activity: set[tuple[str, int, str]]
    future: set[tuple[str, int, str]]
    marks: dict[tuple[str, int], datetime]


def tree_rows(addresses: list[Address]) -> set[tuple[str, str]]:
    """(parent node, child) pairs for every level of every address."""
    rows: set[tuple[str, str]] = set()
    for address in addresses:
        parts = address.as_tuple()
        for depth in range(len(parts)):
            rows.add((node_key(parts[:depth]), parts[depth]))
    return rows


def materialise(
    transactions: list[RecordedTransaction], policy: SealPolicy, completed_at: datetime | None = None
) -> Materialisation:
    """The rows ``transactions`` imply (late marks keep the latest recorded time per node and day).

    ``completed_at`` is given when a write is being completed after the fact (a retry finding
    its claim, a repair): an entry whose recorded time is more than the seal margin before it
    may have missed a seal, so its day is marked stale as of ``completed_at`` and reads go live
    until the day is sealed again.
    """
    entries = [entry for transaction in transactions for entry in transaction.entries()]
    marks: dict[tuple[str, int], datetime] = {}
    buckets: set[tuple[Address, str]] = set()
    activity: set[tuple[str, int, str]] = set()
    future: set[tuple[str, int, str]] = set()
    # Per recorded time (one per transaction, mostly one per chunk): the day before which an
    # entry is late, the day after which it is future-dated, and its completion mark. The
    # same rules as is_late, is_future_dated and the margin test, in day numbers (the test
    # holds them to the rules).
    by_recording: dict[datetime, tuple[int, int, datetime | None]] = {}
    for entry in entries:  # one pass, each entry's day and rollup node computed once
        address, effective_at, recorded_at = entry.address, entry.effective_at, entry.recorded_at
        rules = by_recording.get(recorded_at)
        if rules is None:
            completion = (
                completed_at
                if completed_at is not None and completed_at >= recorded_at + policy.margin
                else None
            )
            rules = by_recording[recorded_at] = (
                policy.late_before(recorded_at),
                day_of(recorded_at) + 1,
                completion,
            )
        late_before, future_after, completion = rules
        day = day_of(effective_at)
        rollup = rollup_node(address)
        buckets.add((address, bucket_of_day(day)))
        activity.add((rollup, day, address.account_id))
        if day > future_after:
            future.add((rollup, day, address.account_id))
        mark = completion or (recorded_at if day < late_before else None)
        if mark is not None:
            for node in (account_node(address), rollup):
                known = marks.get((node, day))
                if known is None or mark > known:
                    marks[(node, day)] = mark
    return Materialisation(
        entries=entries,
        tree=tree_rows(list({address for address, _bucket in buckets})),
        buckets=buckets,
        activity=activity,
        future=future,
        marks=marks,
    )


def is_future_dated(effective_at: datetime, recorded_at: datetime) -> bool:
    """Dated after the day following its recording: listed in ``future_activity`` too, so an
    open-ended rollup read finds it without listing every account."""
    return day_of(effective_at) > day_of(recorded_at) + 1
