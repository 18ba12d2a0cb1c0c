"""``verify``: the whole-ledger audit, streamed with memory bounded by days, not entries.

Pass one folds every declared transaction and every stored row into fingerprints, per-currency
books and per-node block checks. Only if the fingerprints differ does a second pass read the
differing txid buckets again to name each discrepancy.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

from ..domain.audit import (
    Fingerprint,
    NodeCheck,
    RowKey,
    VerifyReport,
    bucket_of_txid,
    declared_keys,
    entry_key,
    name_discrepancies,
    unbalanced,
)
from ..domain.blocks import SealPolicy, account_node, node_key
from ..domain.model import Address, Entry, RecordedTransaction
from ..domain.paging import Page, PageToken
from ..domain.parse import MAX_LEGS
from ..domain.timeutil import TimeRange
from .partitions import READ_BATCH, Partitions
from .reads import drain
from .sealing import rollup_prefixes

#: Accounts audited at once.
ACCOUNT_CHUNK = 16
#: Sets per page of the transaction scan: sized so that a page holds at most 20,000 legs however
#: wide the sets, which bounds the memory verify needs.
SCAN_SETS = 20_000 // MAX_LEGS
EntrySink = Callable[[Entry], None]


async def _each_entry(parts: Partitions, address: Address, sink: EntrySink) -> None:
    """Feed every stored row of one account to ``sink``, page by page."""
    for bucket in await parts.buckets(address):

        def fetch(token: PageToken | None, bucket: str = bucket) -> Awaitable[Page[Entry]]:
            return parts.slot(parts.store.read_bucket(address, bucket, TimeRange(), READ_BATCH, token))

        async for chunk in drain(fetch):
            for entry in chunk:
                sink(entry)


async def _scan(parts: Partitions) -> AsyncIterator[list[RecordedTransaction]]:
    """Every declared transaction, ``SCAN_SETS`` at a time."""
    async for chunk in drain(lambda t: parts.slot(parts.store.scan_transactions(SCAN_SETS, t))):
        yield chunk


async def verify(
    parts: Partitions, policy: SealPolicy, unfinished: set[uuid.UUID] | frozenset[uuid.UUID] = frozenset()
) -> VerifyReport:
    """Every set balances and is stored whole, nothing else is stored, books close, blocks hold."""
    report = VerifyReport()
    declared, stored = Fingerprint(), Fingerprint()
    async for chunk in _scan(parts):
        for transaction in chunk:
            report.transactions += 1
            reason = unbalanced(transaction)
            if reason:
                report.problem(f"transaction {transaction.transaction_id}: {reason}")
            for key in declared_keys(transaction):
                declared.add(transaction.transaction_id, key)
    for prefix in await rollup_prefixes(parts):
        rollup = NodeCheck(node_key(prefix), await parts.view(node_key(prefix), everything=True), policy)
        accounts = [Address(*prefix, acct) for acct in await parts.children(prefix)]
        report.accounts += len(accounts)
        for offset in range(0, len(accounts), ACCOUNT_CHUNK):
            await parts.gather(
                _audit_account(parts, policy, address, report, stored, rollup)
                for address in accounts[offset : offset + ACCOUNT_CHUNK]
            )
        rollup.finish(report)
    report.close_books()
    differing = declared.differing(stored)
    if differing or declared.rows != stored.rows:
        await _name_discrepancies(parts, differing, report, frozenset(str(t) for t in unfinished))
    return report


async def _audit_account(
    parts: Partitions,
    policy: SealPolicy,
    address: Address,
    report: VerifyReport,
    stored: Fingerprint,
    rollup: NodeCheck,
) -> None:
    check = NodeCheck(account_node(address), await parts.view(account_node(address), everything=True), policy)

    def see(entry: Entry) -> None:
        report.count_entry(entry)
        stored.add(entry.transaction_id, entry_key(entry))
        check.see(entry)
        rollup.see(entry)

    await _each_entry(parts, address, see)
    check.finish(report)


async def _name_discrepancies(
    parts: Partitions, buckets: set[int], report: VerifyReport, unfinished: frozenset[str]
) -> None:
    """Second pass over the differing txid buckets only, keeping their row keys."""
    declared: dict[str, list[RowKey]] = defaultdict(list)
    stored: dict[str, list[RowKey]] = defaultdict(list)
    async for chunk in _scan(parts):
        for transaction in chunk:
            if bucket_of_txid(transaction.transaction_id) in buckets:
                declared[str(transaction.transaction_id)].extend(declared_keys(transaction))

    def keep(entry: Entry) -> None:
        if bucket_of_txid(entry.transaction_id) in buckets:
            stored[str(entry.transaction_id)].append(entry_key(entry))

    for prefix in await rollup_prefixes(parts):
        for acct in await parts.children(prefix):
            await _each_entry(parts, Address(*prefix, acct), keep)
    name_discrepancies(declared, stored, report, unfinished)
