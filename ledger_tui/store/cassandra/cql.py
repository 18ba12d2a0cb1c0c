"""The Cassandra store's CQL: every statement it prepares, its DDL, and row conversions.

Kept apart from the store class so the statements can be read (and reviewed) in one place.
Timestamps are selected through ``toUnixTimestamp`` so they arrive as exact integer
milliseconds (the driver decodes ``timestamp`` through a float and builds a datetime per cell).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from ...domain.blocks import DayBlock, SealState
from ...domain.model import Address, Entry, Movement, RecordedTransaction, Side
from ...domain.timeutil import from_epoch_ms
from ..rows import ENTRY_COLUMNS

_ADDRESS_WHERE = "legal_entity = ? AND namespace = ? AND name = ? AND currency = ? AND account_id = ?"
_ENTRY_SELECT = ENTRY_COLUMNS.replace("effective_at", "toUnixTimestamp(effective_at)").replace(
    "recorded_at", "toUnixTimestamp(recorded_at)"
)
_TX_SELECT = "transaction_id, payload_hash, legs, toUnixTimestamp(recorded_at)"
#: Every statement is idempotent, so the store marks each one so (the driver then retries and
#: speculatively re-sends it): reads; inserts of identical immutable rows (entries, index rows,
#: the claim log and its done flag); writes ``USING TIMESTAMP`` of the time they describe (map
#: entries of marks, blocks, seal state); ``keep_setting`` and ``replace_setting`` answer
#: the stored value whether or not they applied; and ``claim`` (IF NOT EXISTS), whose second
#: execution finds the first one's row carrying the same ``claimed_by`` token, which the writer
#: counts as its own claim (writes.py).
STATEMENTS = {
    "claim": "INSERT INTO {ks}.entry_sets "
    "(shard, transaction_id, payload_hash, legs, leg_count, recorded_at, claimed_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    "get_transaction": f"SELECT {_TX_SELECT} FROM {{ks}}.entry_sets WHERE shard = ? AND transaction_id = ?",
    "get_claims": f"SELECT {_TX_SELECT}, claimed_by FROM {{ks}}.entry_sets "
    "WHERE shard = ? AND transaction_id IN ?",
    "index_hold": "INSERT INTO {ks}.hold_index (shard, hold_id, placed_at) VALUES (?, ?, ?)",
    "open_hold": "INSERT INTO {ks}.open_holds (shard, hold_id, placed_at) VALUES (?, ?, ?)",
    "close_hold": "DELETE FROM {ks}.open_holds WHERE shard = ? AND hold_id = ?",
    "open_hold_at": "INSERT INTO {ks}.account_open_holds (account, hold_id) VALUES (?, ?)",
    "close_hold_at": "DELETE FROM {ks}.account_open_holds WHERE account = ? AND hold_id = ?",
    "open_holds_at": "SELECT hold_id FROM {ks}.account_open_holds WHERE account = ?",
    "hold_ids": "SELECT hold_id FROM {ks}.hold_index WHERE shard = ?",
    "open_hold_ids": "SELECT hold_id, toUnixTimestamp(placed_at) FROM {ks}.open_holds WHERE shard = ?",
    "is_hold_open": "SELECT hold_id FROM {ks}.open_holds WHERE shard = ? AND hold_id = ?",
    "log_settles": "INSERT INTO {ks}.claim_log (window, slot, batch_id, transaction_ids, heads, settles) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "scan_transactions": f"SELECT {_TX_SELECT} FROM {{ks}}.entry_sets",
    "log_claims": "INSERT INTO {ks}.claim_log (window, slot, batch_id, transaction_ids) VALUES (?, ?, ?, ?)",
    "log_claims_heads": "INSERT INTO {ks}.claim_log (window, slot, batch_id, transaction_ids, heads) "
    "VALUES (?, ?, ?, ?, ?)",
    "claim_fence": "UPDATE {ks}.entry_sets SET limits_seq = ? WHERE shard = ? IF limits_seq = ?",
    "claim_fence_set": "UPDATE {ks}.entry_sets SET limits_seq = ? WHERE shard = ? IF limits_seq = null",
    "claim_fence_none": "UPDATE {ks}.entry_sets SET limits_seq = null WHERE shard = ? IF limits_seq = null",
    "read_fence": "SELECT limits_seq FROM {ks}.entry_sets WHERE shard = ? LIMIT 1",
    "limit_history": "SELECT seq, pattern, minimum, maximum, changed_by, toUnixTimestamp(changed_at) "
    "FROM {ks}.limit_changes WHERE part = 0",
    "add_limit_change": "INSERT INTO {ks}.limit_changes "
    "(part, seq, pattern, minimum, maximum, changed_by, changed_at) "
    "VALUES (0, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    "read_heads": "SELECT version, account, balance, reserved, since FROM {ks}.account_heads "
    "WHERE shard = ? AND account IN ?",
    "head_accounts": "SELECT account FROM {ks}.account_heads WHERE shard = ?",
    "read_head_version": "SELECT version FROM {ks}.account_heads WHERE shard = ? LIMIT 1",
    "head_version_first": "UPDATE {ks}.account_heads SET version = ? WHERE shard = ? IF version = null",
    "head_version": "UPDATE {ks}.account_heads SET version = ? WHERE shard = ? IF version = ?",
    "write_head": "UPDATE {ks}.account_heads SET balance = ?, reserved = ?, since = ? "
    "WHERE shard = ? AND account = ?",
    "drop_head": "DELETE FROM {ks}.account_heads WHERE shard = ? AND account = ?",
    "log_done": "INSERT INTO {ks}.claim_log (window, slot, batch_id, done) VALUES (?, ?, ?, true)",
    "any_claim": "SELECT shard FROM {ks}.entry_sets LIMIT 1",
    "any_tree_row": "SELECT parent FROM {ks}.account_tree LIMIT 1",
    "log_window": "INSERT INTO {ks}.claim_windows (part, window) VALUES (?, ?)",
    "claim_windows": "SELECT window FROM {ks}.claim_windows WHERE part = ? AND window >= ?",
    "claim_log": "SELECT batch_id, transaction_ids, done, settles FROM {ks}.claim_log "
    "WHERE window = ? AND slot = ?",
    "claim_log_heads": "SELECT batch_id, transaction_ids, done, heads, settles FROM {ks}.claim_log "
    "WHERE window = ? AND slot = ?",
    "claim_log_after": "SELECT batch_id, transaction_ids, done, settles FROM {ks}.claim_log "
    "WHERE window = ? AND slot = ? AND batch_id > ?",
    "claim_log_row": "SELECT batch_id, transaction_ids, done, settles FROM {ks}.claim_log "
    "WHERE window = ? AND slot = ? AND batch_id = ?",
    "claim_log_heads_row": "SELECT batch_id, transaction_ids, done, heads, settles FROM {ks}.claim_log "
    "WHERE window = ? AND slot = ? AND batch_id = ?",
    "insert_entry": f"INSERT INTO {{ks}}.ledger_entries ({ENTRY_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "insert_tree": "INSERT INTO {ks}.account_tree (parent, child) VALUES (?, ?)",
    "insert_bucket": "INSERT INTO {ks}.account_buckets "
    "(legal_entity, namespace, name, currency, account_id, time_bucket) VALUES (?, ?, ?, ?, ?, ?)",
    "insert_activity": "INSERT INTO {ks}.day_activity (node, day, account_id) VALUES (?, ?, ?)",
    "insert_future_day": "INSERT INTO {ks}.future_days (node, day) VALUES (?, ?)",
    "future_days": "SELECT day FROM {ks}.future_days WHERE node = ? AND day >= ? AND day < ?",
    "future_activity": "SELECT day, account_id FROM {ks}.future_activity "
    "WHERE node = ? AND day >= ? AND day < ?",
    "insert_marks": "UPDATE {ks}.node_late_marks USING TIMESTAMP ? SET days = days + ? WHERE node = ?",
    "children": "SELECT child FROM {ks}.account_tree WHERE parent = ?",
    "children_after": "SELECT child FROM {ks}.account_tree WHERE parent = ? AND child > ?",
    "buckets_after": f"SELECT time_bucket FROM {{ks}}.account_buckets WHERE {_ADDRESS_WHERE} "
    "AND time_bucket > ?",
    "month_partitions": f"SELECT time_bucket FROM {{ks}}.account_buckets WHERE {_ADDRESS_WHERE} "
    "AND time_bucket >= ? AND time_bucket < ?",
    "entries_in": f"SELECT {_ENTRY_SELECT} FROM {{ks}}.ledger_entries WHERE {_ADDRESS_WHERE} "
    "AND time_bucket IN ? AND effective_at >= ? AND effective_at < ? "
    "ORDER BY effective_at, transaction_id, leg PER PARTITION LIMIT ?",
    "entries_in_after": f"SELECT {_ENTRY_SELECT} FROM {{ks}}.ledger_entries WHERE {_ADDRESS_WHERE} "
    "AND time_bucket IN ? AND (effective_at, transaction_id, leg) > (?, ?, ?) AND (effective_at) < (?) "
    "ORDER BY effective_at, transaction_id, leg PER PARTITION LIMIT ?",
    "layouts": "SELECT account, toUnixTimestamp(since), bucket, subs FROM {ks}.account_layout WHERE part = 0",
    "record_layout": "INSERT INTO {ks}.account_layout (part, account, since, bucket, subs) "
    "VALUES (0, ?, ?, ?, ?) IF NOT EXISTS",
    "entries": f"SELECT {_ENTRY_SELECT} FROM {{ks}}.ledger_entries WHERE {_ADDRESS_WHERE} "
    "AND time_bucket = ? AND effective_at >= ? AND effective_at < ?",
    "movements": "SELECT toUnixTimestamp(effective_at), toUnixTimestamp(recorded_at), side, amount "
    f"FROM {{ks}}.ledger_entries WHERE {_ADDRESS_WHERE} "
    "AND time_bucket = ? AND effective_at >= ? AND effective_at < ?",
    "movements_in": "SELECT toUnixTimestamp(effective_at), toUnixTimestamp(recorded_at), side, amount "
    f"FROM {{ks}}.ledger_entries WHERE {_ADDRESS_WHERE} "
    "AND time_bucket IN ? AND effective_at >= ? AND effective_at < ?",
    "settings": "SELECT name, value FROM {ks}.ledger_settings",
    "keep_setting": "INSERT INTO {ks}.ledger_settings (name, value) VALUES (?, ?) IF NOT EXISTS",
    "replace_setting": "UPDATE {ks}.ledger_settings SET value = ? WHERE name = ? IF value = ?",
    "seal_state": "SELECT sealed_through, toUnixTimestamp(cutoff) FROM {ks}.seal_state WHERE node = ?",
    "write_seal_state": "INSERT INTO {ks}.seal_state (node, sealed_through, cutoff) VALUES (?, ?, ?) "
    "USING TIMESTAMP ?",
    "blocks": "SELECT day, debits, credits, entry_count, toUnixTimestamp(cutoff) FROM {ks}.balance_blocks "
    "WHERE node = ? AND day >= ? AND day < ?",
    "write_block": "INSERT INTO {ks}.balance_blocks (node, day, debits, credits, entry_count, cutoff) "
    "VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?",
    "marks": "SELECT days[?..?] FROM {ks}.node_late_marks WHERE node = ?",
    "mark_rows": "SELECT day, toUnixTimestamp(last_late) FROM {ks}.late_marks "
    "WHERE node = ? AND day >= ? AND day < ?",
    "day_activity": "SELECT account_id FROM {ks}.day_activity WHERE node = ? AND day = ?",
}


def entry_from_row(row: tuple[Any, ...]) -> Entry:
    """An Entry from a row of the ``entries`` statement."""
    le, ns, name, cur, acct, _bucket, eff, txid, leg, side, amount, desc, rec = row
    return Entry(
        address=Address(le, ns, name, cur, acct),
        side=Side(side),
        amount=amount,
        description=desc or "",
        effective_at=from_epoch_ms(eff),
        transaction_id=txid,
        leg_index=leg,
        recorded_at=from_epoch_ms(rec),
    )


_SIDES = {side.value: side for side in Side}


def movement_from_row(row: tuple[Any, ...]) -> Movement:
    """A Movement from a row of the ``movements`` statement."""
    effective_ms, recorded_ms, side, amount = row
    return Movement(effective_ms, recorded_ms, _SIDES[side], amount)


def transaction_from_row(row: tuple[Any, ...]) -> RecordedTransaction:
    """A RecordedTransaction from a row of the transactions table (recorded time as ms)."""
    txid, payload_hash, legs, recorded_ms = row[:4]
    return RecordedTransaction(
        transaction_id=txid,
        legs=RecordedTransaction.legs_from_json(legs),
        payload_hash=payload_hash,
        recorded_at=from_epoch_ms(recorded_ms),
    )


def block_from_row(row: tuple[Any, ...]) -> DayBlock:
    """A DayBlock from a row of the ``blocks`` statement."""
    day, debits, credits, entries, cutoff_ms = row
    return DayBlock(day, debits, credits, entries, from_epoch_ms(cutoff_ms))


def seal_state_from_row(row: tuple[Any, ...]) -> SealState:
    """A SealState from a row of the ``seal_state`` statement."""
    return SealState(row[0], from_epoch_ms(row[1]))


def schema_statements(keyspace: str, dc: str, replication: int) -> list[str]:
    """DDL of schema.cql for ``keyspace``: its own CREATE KEYSPACE, then the qualified tables.

    DDL cannot be prepared; the keyspace and data-centre names were validated by the URL parser.
    """
    text = resources.files(__package__).joinpath("schema.cql").read_text()
    text = re.sub(r"--[^\n]*", "", text)
    statements = [part.strip() for part in text.split(";") if part.strip()]
    kinds = ("CREATE TABLE IF NOT EXISTS ", "ALTER TABLE IF EXISTS ")  # an ALTER upgrades an older ledger
    return [
        "CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = "
        "{'class': 'NetworkTopologyStrategy', '" + dc + "': " + str(replication) + "}",
        *(
            kind + keyspace + "." + s[len(kind) :]
            for s in statements
            for kind in kinds
            if s.upper().startswith(kind)
        ),
    ]
