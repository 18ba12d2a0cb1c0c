"""Where an account's entries are partitioned: its layout (bucket size and subs) over time.

Why: a hot account's month outgrows one Cassandra partition; its entries recorded from a change on
go to finer buckets and subs chosen by a hash of the set's id, so a retry or a repair writes the
same row, and names that extend the month keep older ledgers readable (docs/scale.md).
"""

from __future__ import annotations

import bisect
import functools
import json
import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .address import parse_address
from .errors import FieldProblem, ValidationError
from .model import Address
from .timeutil import (
    EPOCH,
    bucket_after,
    bucket_of_day,
    bucket_start,
    from_epoch_ms,
    parse_instant,
    to_epoch_ms,
)

#: Bucket sizes an account can be split into, coarsest first.
BUCKET_SIZES = ("month", "day", "hour")
#: The most sub-partitions per bucket (a short read touches every one of them).
MAX_SUBS = 256
#: Separates a bucket from its sub in a partition name ("2026-12-07T10~005").
SUB_MARK = "~"
#: Sorts after every sub of a month, and before the next month ("2026-12~~" < "2027-01").
AFTER_SUBS = SUB_MARK * 2
_PERIOD_LENGTH = {"month": 7, "day": 10, "hour": 13}
_SIZE_OF_LENGTH = {length: size for size, length in _PERIOD_LENGTH.items()}
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS


@dataclass(frozen=True, slots=True)
class AccountLayout:
    """One account's layout for entries recorded from ``since`` on (until a later change)."""

    address: Address
    since: datetime
    bucket: str = "month"
    subs: int = 1

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if self.bucket not in BUCKET_SIZES:
            problems.append(("bucket", f"must be one of {', '.join(BUCKET_SIZES)}, not {self.bucket!r}"))
        if not isinstance(self.subs, int) or isinstance(self.subs, bool) or not 1 <= self.subs <= MAX_SUBS:
            problems.append(("subs", f"must be a whole number from 1 to {MAX_SUBS}"))
        if self.since.tzinfo is None:
            problems.append(("since", "must be timezone-aware"))
        if problems:
            raise ValidationError([FieldProblem(field, reason) for field, reason in problems])

    @property
    def since_ms(self) -> int:
        """``since`` as epoch milliseconds (the unit rows are placed by)."""
        return to_epoch_ms(self.since)

    def partition(self, effective_ms: int, transaction_id: uuid.UUID) -> str:
        """The partition name of an entry effective at ``effective_ms`` of set ``transaction_id``."""
        return partition_name(period_name(effective_ms, self.bucket), self.subs, transaction_id)


def period_name(effective_ms: int, bucket: str) -> str:
    """The bucket an instant falls in, as a name: ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH``."""
    day = effective_ms // _DAY_MS
    if bucket == "month":
        return bucket_of_day(day)
    name = _day_name(day)
    return name if bucket == "day" else f"{name}T{(effective_ms - day * _DAY_MS) // _HOUR_MS:02d}"


@functools.lru_cache(maxsize=65_536)
def _day_name(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


def partition_name(period: str, subs: int, transaction_id: uuid.UUID) -> str:
    """A period's partition for one set: the period itself when it has one sub."""
    return period if subs == 1 else f"{period}{SUB_MARK}{sub_of(transaction_id, subs):03d}"


def sub_of(transaction_id: uuid.UUID, subs: int) -> int:
    """The sub of a set's legs: a hash of its id, independent of its claim shard (the id mod the
    shard count), so one claim group's legs spread over the subs, and even for time-based ids."""
    return zlib.crc32(transaction_id.bytes) % subs


def month_of(partition: str) -> str:
    """The month bucket a partition name belongs to."""
    return partition[:7]


def period_of(partition: str) -> str:
    """The period part of a partition name (without its sub)."""
    return partition.split(SUB_MARK, 1)[0]


def period_span_ms(period: str) -> tuple[int, int]:
    """The half-open epoch-millisecond span of a period name."""
    size = _SIZE_OF_LENGTH[len(period)]
    month = period[:7]
    start = to_epoch_ms(bucket_start(month))
    if size == "month":
        return start, to_epoch_ms(bucket_start(bucket_after(month)))
    start += (int(period[8:10]) - 1) * _DAY_MS
    if size == "day":
        return start, start + _DAY_MS
    start += int(period[11:13]) * _HOUR_MS
    return start, start + _HOUR_MS


def periods_in_order(partitions: Iterable[str]) -> list[list[str]]:
    """Partitions grouped by period, periods in time order (a coarser period before the finer ones
    it contains, which only arises when an account's layout changed inside it)."""
    groups: dict[str, list[str]] = {}
    for partition in partitions:
        groups.setdefault(period_of(partition), []).append(partition)
    ordered = sorted(groups, key=lambda period: (period_span_ms(period)[0], len(period)))
    return [sorted(groups[period]) for period in ordered]


class Layouts:
    """Every account's layout history, for placing rows: the newest change recorded at or before
    a row's recorded time applies (no change: month buckets of one partition)."""

    def __init__(self, changes: Sequence[AccountLayout] = ()) -> None:
        by_account: dict[Address, list[AccountLayout]] = {}
        for change in sorted(changes, key=lambda change: change.since_ms):
            by_account.setdefault(change.address, []).append(change)
        self._by_account = by_account
        self._since = {address: [c.since_ms for c in found] for address, found in by_account.items()}

    def __bool__(self) -> bool:
        return bool(self._by_account)

    def at(self, address: Address, recorded_ms: int) -> AccountLayout | None:
        """The change in effect for a row of ``address`` recorded at ``recorded_ms`` (None: plain)."""
        since = self._since.get(address)
        if since is None:
            return None
        index = bisect.bisect_right(since, recorded_ms) - 1
        return self._by_account[address][index] if index >= 0 else None

    def partition(
        self, address: Address, effective_ms: int, recorded_ms: int, transaction_id: uuid.UUID
    ) -> str:
        """The partition of one entry row."""
        layout = self.at(address, recorded_ms)
        if layout is None:
            return period_name(effective_ms, "month")
        return layout.partition(effective_ms, transaction_id)

    def history(self) -> list[AccountLayout]:
        """Every change, by account then time."""
        return [change for found in self._by_account.values() for change in found]


#: Prefix of the settings a store without partitions keeps layouts in.
LAYOUT_SETTING = "layout:"


def layout_setting(change: AccountLayout) -> tuple[str, str]:
    """A layout change as a setting's name and value."""
    name = f"{LAYOUT_SETTING}{change.since_ms}:{json.dumps(list(change.address.as_tuple()))}"
    return name, f"{change.bucket}:{change.subs}"


def layout_from_setting(name: str, value: str) -> AccountLayout:
    """The layout change a setting holds."""
    since_ms, address = name[len(LAYOUT_SETTING) :].split(":", 1)
    bucket, subs = value.split(":")
    return AccountLayout(Address(*json.loads(address)), from_epoch_ms(int(since_ms)), bucket, int(subs))


#: Rows a partition is sized for when the ledger splits an account itself (half the ~100,000
#: rows Cassandra's guidance allows, which absorbs a busier month than the one it was sized on).
PARTITION_ROWS = 50_000
#: The ledger setting that overrides it, within these bounds.
PARTITION_ROWS_SETTING = "partition_rows"
MIN_PARTITION_ROWS, MAX_PARTITION_ROWS = 1_000, 1_000_000
#: The most subs a split chosen by the ledger takes before moving to a finer bucket.
AUTO_SUBS = 64
#: A busy hour is taken as this many times an average one.
_PEAK_HOUR = 3


def layout_for_traffic(entries_a_day: int, rows: int = PARTITION_ROWS) -> tuple[str, int] | None:
    """The coarsest (bucket, subs) whose partitions hold ``rows`` at most for an account taking
    ``entries_a_day`` (None: one partition a month does): a month of up to ``AUTO_SUBS`` subs,
    else a day, else an hour at a busy hour's rate."""
    per_bucket = {
        "month": entries_a_day * 31,
        "day": entries_a_day,
        "hour": -(-entries_a_day * _PEAK_HOUR // 24),
    }
    for bucket, count in per_bucket.items():
        subs = max(1, -(-count // rows))
        if bucket == "month" and subs == 1:
            return None
        if subs <= AUTO_SUBS or bucket == "hour":
            return bucket, min(subs, MAX_SUBS)
    return None


def holds_more(layout: AccountLayout | None, bucket: str, subs: int) -> bool:
    """Whether ``(bucket, subs)`` spreads an account over more partitions per month than ``layout``."""
    per_month = {"month": 1, "day": 31, "hour": 744}
    current = 1 if layout is None else per_month[layout.bucket] * layout.subs
    return per_month[bucket] * subs > current


def layout_record(change: AccountLayout) -> dict[str, object]:
    """A layout change as plain data (a dump header, ``layout show --json``)."""
    return {
        "account": str(change.address),
        "since": change.since.isoformat(timespec="milliseconds"),
        "bucket": change.bucket,
        "subs": change.subs,
    }


def layout_from_record(data: object, where: str) -> AccountLayout:
    """The layout change a record holds; refused by field (``where`` names the record)."""
    if not isinstance(data, dict) or set(data) != {"account", "since", "bucket", "subs"}:
        raise ValidationError.single(where, "must be an object of account, since, bucket and subs")
    try:
        address = parse_address(str(data["account"]), f"{where}.account")
        since = parse_instant(str(data["since"]))
        bucket = data["bucket"] if isinstance(data["bucket"], str) else ""
        return AccountLayout(address, since, bucket, _whole(data["subs"]))
    except ValueError as error:
        raise ValidationError.single(f"{where}.since", str(error)) from None
    except ValidationError as error:
        raise ValidationError([_within(where, p) for p in error.problems]) from None


def _whole(value: object) -> int:
    """A JSON number that is a small whole number as an int (exact JSON gives Decimals); anything
    else as 0, which every count refuses."""
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= 10**6:
        return 0
    return int(value) if value == value.to_integral_value() else 0


def _within(where: str, problem: FieldProblem) -> FieldProblem:
    return (
        problem
        if problem.field.startswith(where)
        else FieldProblem(f"{where}.{problem.field}", problem.reason)
    )
