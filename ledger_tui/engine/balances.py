"""Balance reads over blocks: whole sealed days from blocks, everything else read live.

Exact whether or not blocks exist (an unsealed node is read live end to end); blocks only
make it fast. Rollup nodes (a 4-part prefix) serve ``*`` patterns without reading every account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..domain.address import AddressPattern
from ..domain.balance import Fold
from ..domain.blocks import UNSEALED, account_node, day_of, day_start, node_key, plan_read
from ..domain.model import Address, Movement
from ..domain.timeutil import TimeRange
from .partitions import Partitions, as_of_ms

#: A rollup span longer than this is read account by account rather than day by day.
MAX_ACTIVITY_DAYS = 62
Node = Address | tuple[str, str, str, str]


def balance_nodes(patterns: Sequence[Address | AddressPattern]) -> list[Node]:
    """The nodes that cover ``patterns`` exactly once: a wildcard is its rollup prefix, an exact
    address its account, and an account already under a wildcard of the same set is dropped."""
    prefixes = {p.prefix() for p in patterns if isinstance(p, AddressPattern) and p.is_wildcard}
    accounts: set[Address] = set()
    for pattern in patterns:
        if isinstance(pattern, Address):
            accounts.add(pattern)
        elif not pattern.is_wildcard:
            accounts.add(Address(*pattern.prefix(), pattern.account_id))
    kept: list[Node] = sorted(prefixes)
    kept += sorted(a for a in accounts if a.as_tuple()[:4] not in prefixes)
    return kept


async def fold_node(
    parts: Partitions, node: Node, time_range: TimeRange, as_of: datetime | None, fold: Fold, today: int
) -> None:
    """Fold everything of ``node`` before ``time_range.end`` (as of ``as_of``) into ``fold``."""
    if isinstance(node, Address):
        await fold_account(parts, node, time_range, as_of, fold)
    else:
        await fold_rollup(parts, node, time_range, as_of, fold, today)


def _until_day(time_range: TimeRange) -> int | None:
    return None if time_range.end is None else day_of(time_range.end) + 1


async def fold_account(
    parts: Partitions, address: Address, time_range: TimeRange, as_of: datetime | None, fold: Fold
) -> None:
    """One account: its blocks, then its live spans read partition by partition."""
    view = await parts.view(account_node(address), _until_day(time_range))
    plan = plan_read(view, time_range, as_of)
    currency = address.currency
    for block in plan.blocks:
        fold.add_day(currency, day_start(block.day), block)
    if plan.live:
        buckets = await parts.buckets(address)
        await parts.gather(_fold_span(parts, address, span, buckets, as_of, fold) for span in plan.live)


async def _fold_span(
    parts: Partitions,
    address: Address,
    span: TimeRange,
    buckets: list[str] | None,
    as_of: datetime | None,
    fold: Fold,
) -> None:
    limit, currency = as_of_ms(as_of), address.currency

    def visit(chunk: list[Movement]) -> None:
        for movement in chunk:
            if limit is None or movement.recorded_ms <= limit:
                fold.add_movement(currency, movement)

    await parts.each_movement_page(address, span, visit, buckets)


async def fold_rollup(
    parts: Partitions,
    prefix: tuple[str, str, str, str],
    time_range: TimeRange,
    as_of: datetime | None,
    fold: Fold,
    today: int,
) -> None:
    """Every account under ``prefix``: the rollup's blocks, and live spans through day activity.

    Live days up to ``today + 1`` are found in ``day_activity``; later (future-dated) entries in
    ``future_activity``, which lists every entry dated beyond the day after its recording.
    """
    node = node_key(prefix)
    view = await parts.view(node, _until_day(time_range))
    if view.state == UNSEALED:  # never sealed: sum the accounts (each with its own blocks)
        accounts = await parts.children(prefix)
        await parts.gather(
            fold_account(parts, Address(*prefix, acct), time_range, as_of, fold) for acct in accounts
        )
        return
    plan = plan_read(view, time_range, as_of)
    for block in plan.blocks:
        fold.add_day(prefix[3], day_start(block.day), block)
    horizon = day_start(today + 2)  # from here on, only future-dated entries can exist
    pieces: list[tuple[str, TimeRange]] = []
    for span in plan.live:
        start = span.start
        assert start is not None  # only an unsealed node has an open-ended live span
        if start < horizon:
            near_end = _min_end(span.end, horizon)
            if day_of(near_end) - day_of(start) > MAX_ACTIVITY_DAYS:
                pieces += [(acct, TimeRange(start, near_end)) for acct in await parts.children(prefix)]
            else:
                for day in range(day_of(start), day_of(near_end) + 1):
                    piece = _day_piece(TimeRange(start, near_end), day)
                    if not piece.is_empty:
                        pieces += [(acct, piece) for acct in await parts.day_activity(node, day)]
        if span.end is None or span.end > horizon:
            far = TimeRange(max(start, horizon), span.end)
            until = 10**9 if span.end is None else day_of(span.end) + 1
            found = await parts.slot(
                parts.store.read_future_activity(node, day_of(max(start, horizon)), until)
            )
            pieces += [(acct, _day_piece(far, day)) for day, acct in found]
    await parts.gather(
        _fold_span(parts, Address(*prefix, acct), piece, None, as_of, fold)
        for acct, piece in pieces
        if not piece.is_empty
    )


def _day_piece(span: TimeRange, day: int) -> TimeRange:
    """The part of ``span`` inside ``day``."""
    begin, after = day_start(day), day_start(day + 1)
    start = begin if span.start is None else max(span.start, begin)
    end = _min_end(span.end, after)
    return TimeRange(start, max(start, end))


def _min_end(end: datetime | None, other: datetime) -> datetime:
    return other if end is None else min(end, other)
