"""Folds proven against the obvious walk: series closings, and the audit of missing rows, orphans and open books."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.domain.audit import (
    Fingerprint,
    RowKey,
    VerifyReport,
    bucket_of_txid,
    declared_keys,
    entry_key,
    name_discrepancies,
)
from ledger_tui.domain.balance import BalanceFold, SeriesFold
from ledger_tui.domain.model import Address, Leg, RecordedTransaction, Side
from ledger_tui.domain.timeutil import Granularity, TimeRange, periods

from ..support.movements import T0, entry, movements

ACCOUNT = Address("le", "ns", "name", "GBP", "a")


OTHER = Address("le", "ns", "name", "GBP", "b")


def _recorded(number: int, amount: str) -> RecordedTransaction:
    legs = (
        Leg(ACCOUNT, Side.DEBIT, Decimal(amount), "", T0),
        Leg(OTHER, Side.CREDIT, Decimal(amount), "", T0),
    )
    return RecordedTransaction(uuid.UUID(int=number), legs, "hash", T0)


@settings(max_examples=150, deadline=None)
@given(
    moves=movements,
    first=st.integers(0, 300),
    days=st.integers(1, 120),
    by=st.sampled_from(list(Granularity)),
)
def test_series_closings_equal_a_plain_fold_up_to_each_period_end(
    moves: list[tuple[str, Side, int, int]], first: int, days: int, by: Granularity
) -> None:
    start = T0 + timedelta(days=first)
    spans = periods(TimeRange(start, start + timedelta(days=days)), by)
    series = SeriesFold(spans)
    entries = [entry(*move, index=i) for i, move in enumerate(moves)]
    for item in entries:
        series.add_entry(item)
    points = series.result()
    for point in points:
        plain = BalanceFold(None, point.period.end)
        plain.add_all(entries)
        closing = {row.currency: row.closing for row in plain.result()}
        assert point.closing == closing.get(point.currency, 0)
        within = BalanceFold(point.period.start, point.period.end)
        within.add_all(e for e in entries if e.address.currency == point.currency)
        rows = within.result()
        assert (point.debits, point.credits) == ((rows[0].debits, rows[0].credits) if rows else (0, 0))
    currencies = {e.address.currency for e in entries if e.effective_at < spans[-1].end}  # type: ignore[operator]
    assert {p.currency for p in points} == currencies
    assert len(points) == len(spans) * len(currencies)


def test_audit_reports_missing_rows_orphans_and_open_books() -> None:
    complete, partial, orphan = _recorded(1, "5.00"), _recorded(2, "7.00"), _recorded(3, "1.00")
    stored_rows = [*complete.entries(), partial.entries()[0], orphan.entries()[1]]
    declared, stored, report = Fingerprint(), Fingerprint(), VerifyReport()
    for transaction in (complete, partial):
        for key in declared_keys(transaction):
            declared.add(transaction.transaction_id, key)
    for row in stored_rows:
        stored.add(row.transaction_id, entry_key(row))
        report.count_entry(row)
    buckets = declared.differing(stored)
    assert buckets == {bucket_of_txid(partial.transaction_id), bucket_of_txid(orphan.transaction_id)}
    keys_declared = {str(t.transaction_id): declared_keys(t) for t in (complete, partial)}
    keys_stored: dict[str, list[RowKey]] = {}
    for row in stored_rows:
        keys_stored.setdefault(str(row.transaction_id), []).append(entry_key(row))
    name_discrepancies(keys_declared, keys_stored, report)
    report.close_books()
    assert report.problems == [
        f"transaction {partial.transaction_id}: 1 of 2 rows found or rows differ",
        f"entries of unknown transaction {orphan.transaction_id}",
        "GBP: total debits 12.00 != total credits 6.00",
    ]
    clean_declared, clean_stored = Fingerprint(), Fingerprint()
    for key in declared_keys(complete):
        clean_declared.add(complete.transaction_id, key)
    for row in complete.entries():
        clean_stored.add(row.transaction_id, entry_key(row))
    assert not clean_declared.differing(clean_stored)
