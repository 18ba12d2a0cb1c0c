"""A shard's next conditional batch of claims: the fast grouping against the obvious one."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger_tui.domain.claims import CLAIM_GROUP, CLAIM_GROUP_BYTES
from ledger_tui.store.cassandra.queues import _distinct_ids

IDS = [uuid.UUID(int=n) for n in range(1000)]


def queue_of(numbers: list[int], sizes: list[int] | None = None) -> list[tuple[Any, Any]]:
    """Queued (claim, future) pairs whose claims carry the given ids and legs of the given sizes
    (futures are labels)."""
    sizes = sizes or [700] * len(numbers)
    return [
        ((SimpleNamespace(transaction_id=IDS[n], legs_json=lambda size=size: "x" * size), None), position)
        for position, (n, size) in enumerate(zip(numbers, sizes, strict=False))
    ]


def obvious(queue: list[tuple[Any, Any]]) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """Walk the queue: a claim whose id is taken waits; the first one that does not fit (count or
    bytes; the first claim always fits) ends the group, and it and all after it are the rest."""
    taken: list[tuple[Any, Any]] = []
    rest: list[tuple[Any, Any]] = []
    for position, item in enumerate(queue):
        claim = item[0][0]
        if claim.transaction_id in {t[0][0].transaction_id for t in taken}:
            rest.append(item)
            continue
        size = sum(len(t[0][0].legs_json()) for t in taken)
        if len(taken) >= CLAIM_GROUP or (taken and size + len(claim.legs_json()) > CLAIM_GROUP_BYTES):
            rest += queue[position:]
            break
        taken.append(item)
    return taken, rest


_SIZES = st.integers(min_value=1, max_value=CLAIM_GROUP_BYTES // 3)


@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=299), st.none() | _SIZES), max_size=3 * CLAIM_GROUP)
)
def test_a_group_is_the_obvious_walks_group(claims: list[tuple[int, int | None]]) -> None:
    """Same group and same rest, in the same order, as walking the queue; ids distinct, at most
    CLAIM_GROUP claims and CLAIM_GROUP_BYTES of legs unless one claim alone is larger."""
    queue = queue_of([n for n, _ in claims], [size or 700 for _, size in claims])
    taken, rest = _distinct_ids(queue)
    assert (taken, rest) == obvious(queue)
    assert len({item[0][0].transaction_id for item in taken}) == len(taken) <= CLAIM_GROUP
    assert len(taken) <= 1 or sum(len(t[0][0].legs_json()) for t in taken) <= CLAIM_GROUP_BYTES
    assert len(taken) + len(rest) == len(queue) and {id(i) for i in taken + rest} == {id(i) for i in queue}


def test_large_sets_make_smaller_groups() -> None:
    """Sets of 150 KiB of legs: a group of six (under 1 MiB), the next claim waits; one claim
    larger than the bound still makes a group of its own."""
    queue = queue_of(list(range(20)), [150 * 1024] * 20)
    taken, rest = _distinct_ids(queue)
    assert [label for _, label in taken] == list(range(6))
    assert [label for _, label in rest] == list(range(6, 20))
    alone = queue_of([0, 1], [CLAIM_GROUP_BYTES + 1, 10])
    assert [label for _, label in _distinct_ids(alone)[0]] == [0]
    # A claim that does not fit ends the group: smaller ones behind it wait too (in order).
    stuck = queue_of([0, 1, 2], [600 * 1024, 600 * 1024, 10])
    taken, rest = _distinct_ids(stuck)
    assert ([label for _, label in taken], [label for _, label in rest]) == ([0], [1, 2])
    exact = queue_of([0, 1, 2], [CLAIM_GROUP_BYTES // 2, CLAIM_GROUP_BYTES - CLAIM_GROUP_BYTES // 2, 1])
    assert [label for _, label in _distinct_ids(exact)[0]] == [0, 1]  # the bound itself fits


def test_a_long_queue_of_distinct_claims_leaves_a_full_group() -> None:
    """Past a full group the queue is kept whole and in order (a retried id waits its turn)."""
    queue = queue_of(list(range(1000)))
    taken, rest = _distinct_ids(queue)
    assert [label for _, label in taken] == list(range(CLAIM_GROUP))
    assert [label for _, label in rest] == list(range(CLAIM_GROUP, 1000))
