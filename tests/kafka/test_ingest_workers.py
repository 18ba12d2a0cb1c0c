"""``ingest --workers N``: the worker processes exist and do the work, and every message comes out
as it does in one process (new, duplicate, conflicting, refused, held back; derived ids)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support.stores import JANITOR, store_url
from .conftest import ingest, read_records, unique_topic
from .test_ingest import _produce, _set_ids, _topic, _valid, children

ROOT = Path(__file__).resolve().parents[2]


def _schema(url: str) -> None:
    command = [sys.executable, "-m", "ledger_tui", "--store", url, "schema", "apply"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@pytest.fixture
def two_ledgers(store_kind: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh ledgers of the same kind: one for one process, one for the workers."""
    urls = []
    for name in ("one", "workers"):
        (tmp_path / name).mkdir()
        urls.append(JANITOR.lend() if store_kind == "cassandra" else store_url(store_kind, tmp_path / name))
        _schema(urls[-1])
    yield urls[0], urls[1]
    if store_kind == "cassandra":
        for url in urls:
            JANITOR.give_back(url)


@pytest.mark.parametrize("seed", [3, 17, 2024])
def test_workers_judge_every_message_as_one_process_does(two_ledgers: tuple[str, str], seed: int) -> None:
    """Property: for a random mix (sets with and without ids, repeats with the same payload or
    another, redeliveries, every kind of refusal, with and without holding after a refusal) the
    outcome of each message in worker processes equals the one-process outcome, batch after batch,
    and a set without an id has the id its topic, partition and offset derive."""
    one, workers = two_ledgers
    command = [sys.executable, "-m", "tests.kafka.outcome_check", one, workers, str(seed), "40"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    kinds = json.loads(done.stdout.splitlines()[-1])["kinds"]
    assert all(kinds.get(kind, 0) > 0 for kind in ("new", "duplicate", "conflicting", "refused", "held")), (
        kinds
    )


@pytest.mark.kafka
async def test_two_workers_are_processes_and_ingest_as_one_process_does(
    kafka_bootstrap: str, two_ledgers: tuple[str, str]
) -> None:
    one, workers = two_ledgers
    topic, dead_one, dead_workers = unique_topic("pool"), unique_topic("dead1"), unique_topic("deadn")
    for name, partitions in ((topic, 3), (dead_one, 1), (dead_workers, 1)):
        await _topic(kafka_bootstrap, name, partitions)
    values: list[bytes | None] = [_valid(n, with_id=n % 3 != 0) for n in range(3004)]
    conflicting = json.loads(values[10] or b"")
    conflicting["entries"][0]["amount"] = conflicting["entries"][1]["amount"] = "3.00"
    # In the partition of set 10 (n % 3 == 1), after it: a repeat of it and another payload under
    # its id (across partitions Kafka orders nothing, so which of two comes first is not defined).
    values[1500], values[1501], values[1502] = b"not json", values[10], None
    values[1504] = json.dumps(conflicting).encode()
    await _produce(kafka_bootstrap, topic, values, 3)
    said: dict[str, str] = {}
    letters_of: dict[str, list[tuple[bytes, str]]] = {}
    for url, count, dead in ((workers, "2", dead_workers), (one, "1", dead_one)):
        process = ingest(url, f"kafka://{kafka_bootstrap}/{topic}?group=g{count}&dead_letter={dead}",
                          "--stop-when-idle", "--workers", count, "--batch", "500")  # fmt: skip
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline and len(seen) < int(count):
            seen.update(children(process.pid))
            await asyncio.sleep(0.05)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0 and "Traceback" not in err, err
        assert len(seen) == (2 if count == "2" else 0), seen  # two worker processes; none for one
        said[count] = out.split(" in ")[0].strip()  # sets, repeats, dead-lettered
        letters = await read_records(kafka_bootstrap, dead, 3)
        letters_of[count] = sorted(
            (bytes(m.value or b""), dict(m.headers)["ledger.error"].decode()) for m in letters
        )
    assert said["2"] == said["1"] == "ingest: sets 3000  repeats 1  dead-lettered 3", said
    assert letters_of["2"] == letters_of["1"] and len(letters_of["1"]) == 3
    ids = {store: sorted(await _set_ids(store)) for store in (one, workers)}
    assert ids[one] == ids[workers] and len(ids[one]) == 3000
    assert uuid.UUID(json.loads(values[10] or b"")["transaction_id"]) in ids[one]
