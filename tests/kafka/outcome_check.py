"""Feed the same random batches of messages to one process (LocalWriter on ledger A) and to worker
processes (WorkerPool on ledger B); exit 1 at the first message whose outcome differs.

Run as ``python -m tests.kafka.outcome_check STORE_A STORE_B SEED BATCHES`` from the repo (a fresh
process: the pool is forked before any thread or driver starts, as the command does). Prints one
JSON line: the outcomes counted by kind, or the first difference.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import uuid
from collections import Counter

from ledger_tui.ingest.pool import WorkerPool
from ledger_tui.ingest.sets import BatchWork, Item, LocalWriter, Outcome
from ledger_tui.ingest.source import message_id
from ledger_tui.ledger import LedgerOptions, open_ledger
from ledger_tui.loader.processes import can_fork

from ..support.entry_sets import transfer

TOPIC = "outcomes"
PARTITIONS = 3


def _set(rng: random.Random, with_id: uuid.UUID | None, amount: int) -> dict[str, object]:
    text = transfer(
        f"{amount}.{rng.randrange(100):02d}", 1727347200000 + amount, credit=f"till-{rng.randrange(5)}"
    )
    data: dict[str, object] = json.loads(text)
    data.pop("transaction_id", None)
    if with_id is not None:
        data["transaction_id"] = str(with_id)
    return data


class Mix:
    """Random messages: valid sets with and without ids, repeats of ids (same payload or another),
    messages read again (a redelivery), and every kind of refusal."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.offsets = [0] * PARTITIONS
        self.sent: list[Item] = []
        self.payloads: list[tuple[uuid.UUID, dict[str, object]]] = []

    def batch(self, size: int) -> list[Item]:
        """``size`` messages in partition order (as a fetch hands them over)."""
        items = [self._message() for _ in range(size)]
        items.sort(key=lambda item: (item[1], item[2]))
        self.sent.extend(items)
        return items

    def _message(self) -> Item:
        rng = self.rng
        partition = rng.randrange(PARTITIONS)
        roll = rng.random()
        if roll < 0.08 and self.sent:  # read again: same place, same value
            return rng.choice(self.sent)
        offset = self.offsets[partition]
        self.offsets[partition] += 1
        value: bytes | None
        if roll < 0.30:
            transaction_id = uuid.UUID(int=rng.getrandbits(128))
            data = _set(rng, transaction_id, rng.randrange(1, 500))
            self.payloads.append((transaction_id, data))
            value = json.dumps(data).encode()
        elif roll < 0.50:
            value = json.dumps(_set(rng, None, rng.randrange(1, 500))).encode()
        elif roll < 0.62 and self.payloads:  # the same id and payload again
            value = json.dumps(rng.choice(self.payloads)[1]).encode()
        elif roll < 0.74 and self.payloads:  # the same id, another payload: a conflict
            transaction_id, _ = rng.choice(self.payloads)
            value = json.dumps(_set(rng, transaction_id, rng.randrange(500, 900))).encode()
        else:
            value = rng.choice(_REFUSED)
        return (TOPIC, partition, offset, value)


_UNBALANCED = {"entries": [json.loads(transfer("1.00", 1727347200000))["entries"][0]]}
_REFUSED: list[bytes | None] = [
    None,
    b"not json",
    b'{"entries": "\xff"}',
    json.dumps(_UNBALANCED).encode(),
    json.dumps({"entries": [{"address": "\u202e<script>", "amount": 1}]}).encode(),
    json.dumps({"transaction_id": "not-a-uuid", "entries": []}).encode(),
]


def _check_ids(items: list[Item], outcomes: list[Outcome]) -> None:
    """A set without an id got the one its place derives."""
    for (topic, partition, offset, value), outcome in zip(items, outcomes, strict=True):
        if outcome.transaction_id is not None and value is not None and b"transaction_id" not in value:
            assert outcome.transaction_id == message_id(topic, partition, offset), (partition, offset)


async def _compare(one: str, pool: WorkerPool, seed: int, batches: int) -> dict[str, object]:
    mix = Mix(seed)
    kinds: Counter[str] = Counter()
    async with open_ledger(LedgerOptions(store=one)) as engine:
        local = LocalWriter(engine)
        await pool.ready()
        for number in range(batches):
            items = mix.batch(mix.rng.randrange(1, 300))
            hold = mix.rng.random() < 0.3  # as without a dead-letter topic
            results = []
            for writer in (local, pool):
                work = BatchWork(items)
                await work.parse(writer)
                await work.write(writer, hold_after_refused=hold)
                results.append(work.outcomes)
            if results[0] != results[1]:
                index = next(i for i, (a, b) in enumerate(zip(*results, strict=True)) if a != b)
                return {"batch": number, "message": index, "one": repr(results[0][index]),
                        "workers": repr(results[1][index])}  # fmt: skip
            _check_ids(items, results[0])
            kinds.update(outcome.kind for outcome in results[0])
    return {"kinds": dict(kinds)}


def main() -> int:
    one, other, seed, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    assert can_fork(), "run in a fresh process"
    pool = WorkerPool(LedgerOptions(store=other), 2)
    pool.start()
    try:
        result = asyncio.run(_compare(one, pool, seed, batches))
    finally:
        pool.close()
    print(json.dumps(result))
    return 0 if "kinds" in result else 1


if __name__ == "__main__":
    sys.exit(main())
