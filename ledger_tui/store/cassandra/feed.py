"""The Cassandra change feed's rules: time-based batch ids, feed cursors, and the walk over log rows.

Rows of many writers land out of order, so a reader moves its cursor only past settled rows: a writer
whose log row took longer than LOG_DEADLINE to be acknowledged abandons it (claims nothing under it,
marks it done) and logs again, so with clocks within CLOCK_SKEW no row older than SETTLE can still
appear. Rows seen but not yet done wait in the cursor until they are (``repair`` finishes a write
that died). Pure: the reads are in changes.py; docs/events.md tells the whole design.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...domain.claims import window_start
from ...domain.errors import ValidationError
from ...domain.timeutil import EPOCH

LOG_DEADLINE = timedelta(seconds=5)
CLOCK_SKEW = timedelta(seconds=5)
SETTLE = LOG_DEADLINE + CLOCK_SKEW
#: 100-ns ticks from the start of the Gregorian calendar (a time-based UUID's epoch) to 1970.
_GREGORIAN_TICKS = 0x01B21DD213814000
_LAST = (1 << 128) - 1
#: The ``read_through`` of a read that was not cut short.
READ_ALL = 1 << 62
_HEAD = re.compile(r"^c1-([0-9a-f]{1,16})-([0-9a-f]{32})")
_WAITING = re.compile(r"-w([0-9a-f]{1,16})\.([0-7])\.([0-9a-f]{32})")
#: Most waiting rows a cursor carries (then the oldest stop the cursor: it is a resume point).
MAX_WAITING = 64


def ticks_of(moment: datetime) -> int:
    """An instant as time-based UUID ticks (exact: no float)."""
    delta = moment - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * 10 + _GREGORIAN_TICKS


def time_of(ticks: int) -> datetime:
    """The instant of a tick count (to the microsecond)."""
    return EPOCH + timedelta(microseconds=(ticks - _GREGORIAN_TICKS) // 10)


def batch_id_at(moment: datetime) -> uuid.UUID:
    """A time-based (version 1) batch id for ``moment``, its other 62 bits random (unique)."""
    return batch_id_of(ticks_of(moment), random.getrandbits(62))


def batch_id_of(ticks: int, bits: int) -> uuid.UUID:
    """The version 1 id of ``ticks`` whose clock sequence and node are the 62 ``bits``."""
    clock_seq, node = bits >> 48 & 0x3FFF, bits & 0xFFFFFFFFFFFF
    return uuid.UUID(
        fields=(
            ticks & 0xFFFFFFFF,
            (ticks >> 32) & 0xFFFF,
            ((ticks >> 48) & 0x0FFF) | 0x1000,
            0x80 | (clock_seq >> 8),
            clock_seq & 0xFF,
            node | (1 << 40),  # a random node id has its multicast bit set
        )
    )


def lower_bound(ticks: int) -> uuid.UUID:
    """A version 1 id older than every id of ``ticks`` (a query bound; rows are filtered again)."""
    return batch_id_of(max(0, ticks - 1), 0)


@dataclass(frozen=True, slots=True, order=True)
class LogKey:
    """Where a log row is, ordered by its time, then its id (ledgers made before time-based ids
    have random ones: their rows count from their window's start)."""

    ticks: int
    batch: int
    window: int
    slot: int

    @classmethod
    def of(cls, window: int, slot: int, batch_id: uuid.UUID) -> LogKey:
        ticks = batch_id.time if batch_id.version == 1 else ticks_of(window_start(window))
        return cls(ticks, batch_id.int, window, slot)

    @property
    def position(self) -> tuple[int, int]:
        return (self.ticks, self.batch)

    @property
    def batch_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.batch)


@dataclass(frozen=True, slots=True)
class LogRow:
    """A claim-log row: the ids its write claimed (or found claimed, or settled) and whether it finished."""

    key: LogKey
    ids: tuple[uuid.UUID, ...]
    done: bool
    #: The ids that are holds the row's write gave an outcome (not claims of its own).
    settles: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Every done row at or before ``after`` was delivered, except the rows in ``waiting``."""

    after: tuple[int, int] = (0, 0)
    waiting: tuple[LogKey, ...] = ()

    def encode(self) -> str:
        head = f"c1-{self.after[0]:x}-{self.after[1]:032x}"
        return head + "".join(f"-w{k.window:x}.{k.slot}.{k.batch:032x}" for k in self.waiting)

    @classmethod
    def decode(cls, text: str | None) -> FeedCursor:
        if text is None:
            return cls()
        head = _HEAD.match(text)
        rest = text[head.end() :] if head else ""
        waiting = list(_WAITING.finditer(rest))
        refused = ValidationError.single(
            "cursor", "not a change cursor of a Cassandra ledger (use one it gave)"
        )
        if head is None or sum(len(w.group(0)) for w in waiting) != len(rest) or len(waiting) > MAX_WAITING:
            raise refused
        try:  # every time in it must be a date (a forged cursor could name one past year 9999)
            keys = tuple(LogKey.of(int(w[1], 16), int(w[2]), uuid.UUID(w[3])) for w in waiting)
            for key in keys:
                window_start(key.window)
                time_of(key.ticks)
            time_of(int(head[1], 16))
        except (OverflowError, ValueError):
            raise refused from None
        return cls((int(head[1], 16), int(head[2], 16)), keys)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A done row to deliver: its sets' events resume ``before`` it, the last one ``after`` it."""

    row: LogRow
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Walk:
    deliveries: list[Delivery]
    cursor: FeedCursor
    more: bool
    #: Done rows beyond ``cursor`` given now or before (a fresh read skips them next time).
    fresh: frozenset[int] = frozenset()


def walk(
    cursor: FeedCursor,
    waiting_now: dict[LogKey, LogRow],
    rows: list[LogRow],
    settled: int,
    read_through: int,
    limit: int,
    fresh: frozenset[int] | None,
) -> Walk:
    """Deliver what is done, in time order: first rows the cursor waited for that are now done,
    then ``rows`` (every row after the cursor up to tick ``read_through``, as read) up to tick
    ``settled``, at most about ``limit`` ids; then, given ``fresh`` (batches of rows delivered
    beyond the cursor before), the other done rows beyond it. A row in ``fresh`` is never
    delivered again: the cursor only moves past it."""
    given = fresh or frozenset()
    start = cursor.encode()
    deliveries: list[Delivery] = []
    waiting: list[LogKey] = []
    for key in cursor.waiting:
        row = waiting_now.get(key)
        if row is not None and row.done:
            deliveries.append(Delivery(row, start, start))
        else:
            waiting.append(key)
    after = cursor.after
    ordered = sorted((r for r in rows if r.key.position > cursor.after), key=lambda r: r.key.position)
    horizon = (min(settled, read_through), _LAST)
    taken = 0
    more = False
    later: list[LogRow] = []
    for row in ordered:
        if row.key.position > horizon:
            later.append(row)
            continue
        if more:
            continue
        before = FeedCursor(after, tuple(waiting)).encode()
        if not row.done:
            if len(waiting) == MAX_WAITING:  # the cursor stops at the oldest row it cannot carry
                more = True
                continue
            waiting.append(row.key)
        after = row.key.position
        if row.done and row.key.batch not in given:
            deliveries.append(Delivery(row, before, FeedCursor(after, tuple(waiting)).encode()))
            taken += len(row.ids)
        if taken >= limit:
            more = True
    if not more:
        after = max(after, horizon)
        more = read_through < settled
    final = FeedCursor(after, tuple(waiting))
    # Rows given before and still ahead of the cursor stay given (walked later, or not yet).
    kept = frozenset(r.key.batch for r in ordered if r.key.batch in given and r.key.position > after)
    if fresh is None or more:
        return Walk(deliveries, final, more, kept)
    end = final.encode()
    new = [row for row in later if row.done and row.key.position > after and row.key.batch not in given]
    deliveries += [Delivery(row, end, end) for row in new]
    # A read cut short (rows not settled yet filled it) has not seen the rows after it: more.
    return Walk(deliveries, final, read_through < READ_ALL, kept | {row.key.batch for row in new})
