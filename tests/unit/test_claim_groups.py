"""A shard's next conditional batch of claims: the fast grouping against the obvious one."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.domain.claims import CLAIM_GROUP
from ledger_tui.store.cassandra_writes import _distinct_ids

IDS = [uuid.UUID(int=n) for n in range(300)]


def queue_of(numbers: list[int]) -> list[tuple[Any, Any]]:
    """Queued (claim, future) pairs whose claims carry the given ids (futures are labels)."""
    return [((SimpleNamespace(transaction_id=IDS[n]), None), position) for position, n in enumerate(numbers)]


def obvious(queue: list[tuple[Any, Any]]) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """Walk the whole queue: the first claim of each id while the group has room, else the rest."""
    taken: list[tuple[Any, Any]] = []
    rest: list[tuple[Any, Any]] = []
    for item in queue:
        if item[0][0].transaction_id in {t[0][0].transaction_id for t in taken} or len(taken) >= CLAIM_GROUP:
            rest.append(item)
        else:
            taken.append(item)
    return taken, rest


@given(st.lists(st.integers(min_value=0, max_value=299), max_size=3 * CLAIM_GROUP))
def test_a_group_is_the_obvious_walks_group(numbers: list[int]) -> None:
    """Same group and same rest, in the same order, as walking the whole queue; ids distinct."""
    queue = queue_of(numbers)
    taken, rest = _distinct_ids(queue)
    assert (taken, rest) == obvious(queue)
    assert len({item[0][0].transaction_id for item in taken}) == len(taken) <= CLAIM_GROUP


def test_a_long_queue_of_distinct_claims_leaves_a_full_group() -> None:
    """Past a full group the queue is kept whole and in order (a retried id waits its turn)."""
    queue = queue_of([n % 300 for n in range(1000)])
    taken, rest = _distinct_ids(queue)
    assert [label for _, label in taken] == list(range(CLAIM_GROUP))
    assert [label for _, label in rest] == list(range(CLAIM_GROUP, 1000))
