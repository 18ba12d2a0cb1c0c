"""The embedded store's holds: placed, settled once (captured, voided, expired), and read.

Why race-free: a hold and its outcome are written under the file's write lock, and the outcome
table's key is the hold's id, so a second capture, void or expiry finds the first outcome and
answers it (docs/holds.md). Open holds' legs are kept apart (derived, dropped once an outcome
is recorded) so pending totals and limit checks read only what may still count.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from ...domain.blocks import SealPolicy
from ...domain.claims import claimed_by
from ...domain.errors import ConflictingResubmission, NotFound
from ...domain.holds import Hold, HoldOutcome, HoldRefused, Pending, check_capture
from ...domain.model import Address, RecordedTransaction, Side
from ...domain.money import MONEY_CONTEXT, ZERO
from ...domain.timeutil import from_epoch_ms, to_epoch_ms
from . import limits
from .sql import INSERT_CHANGE, SELECT_TRANSACTION, transaction_from_row
from .writes import SELECT_HOLD_ROW, record_in

HOLDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS holds (
    hold_id      TEXT PRIMARY KEY,
    payload_hash TEXT NOT NULL,
    legs         TEXT NOT NULL,
    leg_count    INTEGER NOT NULL,
    recorded_at  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hold_outcomes (
    hold_id TEXT PRIMARY KEY,
    outcome TEXT NOT NULL CHECK (outcome IN ('captured', 'voided', 'expired')),
    at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS holds_no_update BEFORE UPDATE ON holds
BEGIN SELECT RAISE(ABORT, 'holds are append-only'); END;
CREATE TRIGGER IF NOT EXISTS holds_no_delete BEFORE DELETE ON holds
BEGIN SELECT RAISE(ABORT, 'holds are append-only'); END;
CREATE TRIGGER IF NOT EXISTS hold_outcomes_no_update BEFORE UPDATE ON hold_outcomes
BEGIN SELECT RAISE(ABORT, 'hold outcomes are append-only'); END;
CREATE TRIGGER IF NOT EXISTS hold_outcomes_no_delete BEFORE DELETE ON hold_outcomes
BEGIN SELECT RAISE(ABORT, 'hold outcomes are append-only'); END;
-- Which change-log rows are hold events (their transaction_id names the hold), and which event.
CREATE TABLE IF NOT EXISTS change_kinds (
    seq  INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('hold.placed', 'hold.voided', 'hold.expired'))
);
CREATE TRIGGER IF NOT EXISTS change_kinds_no_update BEFORE UPDATE ON change_kinds
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS change_kinds_no_delete BEFORE DELETE ON change_kinds
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
-- Derived: the legs of holds with no outcome recorded yet, by account (dropped at the outcome).
CREATE TABLE IF NOT EXISTS open_hold_legs (
    account    TEXT NOT NULL,
    hold_id    TEXT NOT NULL,
    leg        INTEGER NOT NULL,
    side       TEXT NOT NULL,
    amount     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account, hold_id, leg)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS open_hold_legs_by_hold ON open_hold_legs (hold_id);
"""
_INSERT_HOLD = "INSERT INTO holds VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_OPEN_LEG = "INSERT INTO open_hold_legs VALUES (?, ?, ?, ?, ?, ?)"
_DROP_OPEN_LEGS = "DELETE FROM open_hold_legs WHERE hold_id = ?"
_INSERT_OUTCOME = "INSERT INTO hold_outcomes VALUES (?, ?, ?)"
_INSERT_KIND = "INSERT INTO change_kinds (seq, kind) VALUES (?, ?)"
_SELECT_HOLD = (
    "SELECT h.hold_id, h.payload_hash, h.legs, h.recorded_at, h.expires_at, o.outcome, o.at "
    "FROM holds h LEFT JOIN hold_outcomes o ON o.hold_id = h.hold_id"
)
_BY_ID = _SELECT_HOLD + " WHERE h.hold_id = ?"
_OPEN = (
    _SELECT_HOLD
    + " WHERE h.hold_id IN (SELECT DISTINCT hold_id FROM open_hold_legs) ORDER BY h.recorded_at, h.hold_id"
)
_ALL = _SELECT_HOLD + " ORDER BY h.recorded_at, h.hold_id"
_DUE = "SELECT DISTINCT hold_id FROM open_hold_legs WHERE expires_at <= ?"
_OPEN_LEGS = "SELECT account, side, amount FROM open_hold_legs WHERE expires_at > ?"


def _hold(row: Sequence[object]) -> Hold:
    transaction = transaction_from_row(row[:4])
    outcome = None if row[5] is None else HoldOutcome(str(row[5]))
    at = None if row[6] is None else from_epoch_ms(int(str(row[6])))
    return Hold(transaction, from_epoch_ms(int(str(row[4]))), outcome, at)


def read_hold(connection: sqlite3.Connection, hold_id: uuid.UUID) -> Hold | None:
    """The hold with its outcome, or None."""
    row = connection.execute(_BY_ID, (str(hold_id),)).fetchone()
    return None if row is None else _hold(row)


def read_holds(connection: sqlite3.Connection, open_only: bool) -> list[Hold]:
    """Holds oldest first: those with no outcome recorded (``open_only``), or every one."""
    return [_hold(row) for row in connection.execute(_OPEN if open_only else _ALL)]


def pending_now(connection: sqlite3.Connection, at: datetime) -> dict[Address, Pending]:
    """Pending debits and credits per account of the holds that count at ``at`` (a recent instant:
    older ones are answered from the whole history, ``read_holds``)."""
    debits: dict[str, Decimal] = {}
    credits: dict[str, Decimal] = {}
    for account, side, amount in connection.execute(_OPEN_LEGS, (to_epoch_ms(at),)):
        column = debits if side == Side.DEBIT.value else credits
        column[account] = MONEY_CONTEXT.add(column.get(account, ZERO), Decimal(amount))
    return {
        Address(*key.split("/")): Pending(debits.get(key, ZERO), credits.get(key, ZERO))
        for key in set(debits) | set(credits)
    }


def place(
    connection: sqlite3.Connection,
    limit_state: limits.LimitState,
    transaction: RecordedTransaction,
    expires_at: datetime,
) -> tuple[Hold, bool]:
    """Place a hold (inside a write transaction); (the hold, whether it was placed before). An id
    taken by a set, or by a hold of other legs, is a conflict; a bound it would break refuses it."""
    txid = str(transaction.transaction_id)
    stored = connection.execute(SELECT_HOLD_ROW, (txid,)).fetchone()
    if stored is None:
        stored = connection.execute(SELECT_TRANSACTION, (txid,)).fetchone()
        if stored is not None:
            raise ConflictingResubmission(transaction.transaction_id)
    if stored is not None:
        if claimed_by(transaction, transaction_from_row(stored)).conflicting:
            raise ConflictingResubmission(transaction.transaction_id)
        hold = read_hold(connection, transaction.transaction_id)
        assert hold is not None
        return hold, True
    limits.judge_hold(connection, limit_state.refresh(connection), transaction)
    expires_ms = to_epoch_ms(expires_at)
    connection.execute(
        _INSERT_HOLD,
        (txid, transaction.payload_hash, transaction.legs_json(), len(transaction.legs),
         to_epoch_ms(transaction.recorded_at), expires_ms),
    )  # fmt: skip
    connection.executemany(
        _INSERT_OPEN_LEG,
        [(str(leg.address), txid, index, leg.side.value, str(leg.amount), expires_ms)
         for index, leg in enumerate(transaction.legs)],
    )  # fmt: skip
    _log_event(connection, txid, "hold.placed")
    return Hold(transaction, expires_at), False


def _log_event(connection: sqlite3.Connection, hold_id: str, kind: str) -> None:
    """Tell the change feed of a hold event, in the write that makes it."""
    seq = connection.execute(INSERT_CHANGE, (hold_id,)).lastrowid
    connection.execute(_INSERT_KIND, (seq, kind))


def _record_outcome(connection: sqlite3.Connection, hold: Hold, outcome: HoldOutcome, at: datetime) -> Hold:
    connection.execute(_INSERT_OUTCOME, (str(hold.hold_id), outcome.value, to_epoch_ms(at)))
    connection.execute(_DROP_OPEN_LEGS, (str(hold.hold_id),))
    if outcome is not HoldOutcome.CAPTURED:  # a capture is told as the set it records
        _log_event(connection, str(hold.hold_id), f"hold.{outcome.value}")
    return Hold(hold.transaction, hold.expires_at, outcome, at)


def _refusal(hold: Hold, wanted: HoldOutcome) -> HoldRefused:
    assert hold.outcome is not None and hold.outcome_at is not None
    when = hold.outcome_at.isoformat(timespec="milliseconds")
    verb = "capture" if wanted is HoldOutcome.CAPTURED else "void"
    return HoldRefused(f"cannot {verb} hold {hold.hold_id}: it was {hold.outcome.value} at {when}")


def settle(
    connection: sqlite3.Connection,
    limit_state: limits.LimitState,
    hold_id: uuid.UUID,
    wanted: HoldOutcome,
    now: datetime,
    capture: RecordedTransaction | None,
    policy: SealPolicy,
) -> tuple[Hold, bool] | HoldRefused:
    """Give a hold its one outcome (inside a write transaction): (the hold, whether it had this
    outcome already), or the refusal to raise once the transaction commits (a hold past its
    expiry is recorded expired, and the capture or void refused). A capture records ``capture``
    (the held legs, or fewer) under the hold's id."""
    hold = read_hold(connection, hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.outcome is None and now >= hold.expires_at:
        hold = _record_outcome(connection, hold, HoldOutcome.EXPIRED, hold.expires_at)
    if hold.outcome is not None:
        if hold.outcome is wanted:
            return hold, True
        return _refusal(hold, wanted)
    settled = _record_outcome(connection, hold, wanted, now)
    if capture is not None:
        check_capture(hold.transaction.legs, capture.legs)
        (outcome,) = record_in(connection, limit_state, [capture], policy, capturing=hold_id)
        if outcome.refused is not None:
            raise outcome.refused
        if outcome.rejected:  # the hold's id was never free for another set
            raise ConflictingResubmission(hold_id)
    return settled, False


def sweep(connection: sqlite3.Connection, now: datetime) -> int:
    """Record every hold past its expiry as expired; how many were recorded."""
    due = [row[0] for row in connection.execute(_DUE, (to_epoch_ms(now),)).fetchall()]
    for hold_id in due:
        hold = read_hold(connection, uuid.UUID(hold_id))
        if hold is not None and hold.outcome is None:
            _record_outcome(connection, hold, HoldOutcome.EXPIRED, hold.expires_at)
    return len(due)


def restore(connection: sqlite3.Connection, every: Sequence[Hold]) -> int:
    """Record holds as a dump has them, outcome and all (inside a write transaction; a hold
    already there is left as it is); how many were new. Their sets were restored before them."""
    added = 0
    for hold in every:
        transaction, txid = hold.transaction, str(hold.hold_id)
        expires_ms = to_epoch_ms(hold.expires_at)
        cursor = connection.execute(
            _INSERT_HOLD.replace("INSERT", "INSERT OR IGNORE", 1),
            (txid, transaction.payload_hash, transaction.legs_json(), len(transaction.legs),
             to_epoch_ms(transaction.recorded_at), expires_ms),
        )  # fmt: skip
        if not cursor.rowcount:
            continue
        added += 1
        if hold.outcome is not None and hold.outcome_at is not None:
            connection.execute(_INSERT_OUTCOME, (txid, hold.outcome.value, to_epoch_ms(hold.outcome_at)))
            continue
        connection.executemany(
            _INSERT_OPEN_LEG,
            [(str(leg.address), txid, index, leg.side.value, str(leg.amount), expires_ms)
             for index, leg in enumerate(transaction.legs)],
        )  # fmt: skip
    return added
