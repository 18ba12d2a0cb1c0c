"""A batch's outcomes are what writing its messages one by one, in order, would give (a repeat of
a set a limit refused is a new submission), with the writes grouped into a few rounds; copies of
one refused set beyond RETRY_ROUNDS are judged refused without a write each."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.ingest.sets import (
    CONFLICTING,
    DUPLICATE,
    NEW,
    REFUSED,
    RETRY_ROUNDS,
    BatchWork,
    Claim,
    Item,
    Parsing,
    Written,
)

IDS = [uuid.UUID(int=n + 1) for n in range(3)]


def _hash(payload: int) -> str:
    return hashlib.sha256(str(payload).encode()).hexdigest()


class ScriptedWriter:
    """Parses ``id:payload:verdict`` values; a write records or refuses each by its verdict (a
    limit that refuses what it refused before), and a stored id answers as the store does."""

    def __init__(self) -> None:
        self.stored: dict[bytes, str] = {}
        self.writes = 0

    async def ready(self) -> None:
        return None

    def check(self) -> None:
        return None

    async def parse(self, items: Sequence[Item]) -> Parsing:
        claims = []
        for _topic, _partition, _offset, value in items:
            assert value is not None
            id_text, payload, verdict = value.decode().split(":")
            claims.append((Claim(uuid.UUID(id_text).bytes, _hash(int(payload))), verdict))
        return Parsing([claim for claim, _ in claims], claims)

    async def write(self, parsing: Parsing, indexes: list[int]) -> list[Written]:
        self.writes += 1
        answers: list[Written] = []
        for i in indexes:
            claim, verdict = parsing.held[i]
            if claim.id in self.stored:
                same = self.stored[claim.id] == claim.payload_hash
                answers.append((DUPLICATE, "") if same else (CONFLICTING, self.stored[claim.id]))
            elif verdict == "refuse":
                answers.append((REFUSED, "below the limit"))
            else:
                self.stored[claim.id] = claim.payload_hash
                answers.append((NEW, ""))
        return answers


def _in_order(messages: list[tuple[int, int, str]]) -> list[str]:
    """The obvious reading: each message on its own, in order."""
    stored: dict[int, int] = {}
    kinds = []
    for key, payload, verdict in messages:
        if key in stored:
            kinds.append("duplicate" if stored[key] == payload else "conflicting")
        elif verdict == "refuse":
            kinds.append("refused")
        else:
            stored[key] = payload
            kinds.append("new")
    return kinds


def _work(messages: list[tuple[int, int, str]]) -> tuple[list[str], int]:
    items: list[Item] = [
        ("t", 0, offset, f"{IDS[key]}:{payload}:{verdict}".encode())
        for offset, (key, payload, verdict) in enumerate(messages)
    ]
    writer = ScriptedWriter()
    work = BatchWork(items)

    async def run() -> None:
        await work.parse(writer)
        await work.write(writer, hold_after_refused=False)

    asyncio.run(run())
    return [outcome.kind for outcome in work.outcomes], writer.writes


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 1), st.sampled_from(["post", "refuse"])),
        max_size=RETRY_ROUNDS + 1,
    )
)
def test_a_batch_judges_as_writing_one_by_one_in_order_would(messages: list[tuple[int, int, str]]) -> None:
    kinds, _writes = _work(messages)
    assert kinds == _in_order(messages)


def test_copies_of_one_refused_set_cost_a_bounded_number_of_writes() -> None:
    kinds, writes = _work([(0, 0, "refuse")] * 5000)
    assert kinds == ["refused"] * 5000
    assert writes == 1 + RETRY_ROUNDS
