"""``import`` and ``repair`` on both stores: exact reruns, bad and conflicting lines, crash repair."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.model import EntrySet, RecordedTransaction
from ledger_tui.domain.timeutil import to_epoch_ms
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.loader import generated_sets, load
from ledger_tui.store.url import parse_store_url

from ..support.stores import wait_until_writing

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
Cli = Callable[..., tuple[int, str, str]]


def line(entry_set: EntrySet) -> str:
    legs = [
        {
            "address": dict(
                zip(
                    ("legal_entity", "namespace", "name", "currency", "account_id"),
                    leg.address.as_tuple(),
                    strict=True,
                )
            ),
            "amount": str(leg.amount),
            "type": leg.side.value,
            "description": leg.description,
            "timestamp": to_epoch_ms(leg.effective_at) if leg.effective_at else None,
        }
        for leg in entry_set.legs
    ]
    return json.dumps({"transaction_id": str(entry_set.transaction_id), "entries": legs})


def write_jsonl(path: Path, sets: Iterable[EntrySet], extra: Iterable[str] = ()) -> Path:
    path.write_text("".join(line(s) + "\n" for s in sets) + "".join(text + "\n" for text in extra))
    return path


def sets(count: int, seed: int = 5) -> list[EntrySet]:
    return list(generated_sets(count, months=3, until=UNTIL, seed=seed))


@pytest.fixture
def cli(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    assert main(["--store", ledger_url, "schema", "apply"]) == 0
    capsys.readouterr()

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["--store", ledger_url, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_import_then_rerun_is_exact(cli: Cli, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "sets.jsonl", sets(150))
    code, out, _ = cli("import", str(source), "--chunk", "40")
    assert code == 0 and "sets 151 (new 151, already there 0, conflicting 0, bad lines 0)" in out
    code, out, _ = cli("import", str(source))
    assert code == 0 and "(new 0, already there 151" in out
    code, out, _ = cli("verify")
    assert code == 0 and "transactions: 151" in out and "verify: OK" in out


def test_bad_line_aborts_before_its_chunk_is_written(cli: Cli, tmp_path: Path) -> None:
    good = sets(30)
    source = write_jsonl(tmp_path / "bad.jsonl", good[:25], ['{"transaction_id": "x", "entries": []}'])
    source.write_text(source.read_text() + "".join(line(s) + "\n" for s in good[25:]))
    code, out, _ = cli("import", str(source), "--chunk", "10")
    assert code == 1 and "line 26:" in out and "aborted" in out
    _, verify_out, _ = cli("verify")
    assert "transactions: 20" in verify_out  # two whole chunks; nothing of the bad line's chunk
    code, out, _ = cli("import", str(source), "--on-error", "skip")
    assert code == 1 and "line 26:" in out and "(new 11, already there 20" in out


def test_check_writes_nothing_and_transaction_id_is_required(cli: Cli, tmp_path: Path) -> None:
    document = json.loads(line(sets(1)[1]))
    del document["transaction_id"]
    null_id = {**document, "transaction_id": None}  # would take a fresh id on every run
    bad = [json.dumps(document), "[1, 2]", "{not json", json.dumps(null_id)]
    source = write_jsonl(tmp_path / "noid.jsonl", sets(3), bad)
    code, out, _ = cli("import", "--check", str(source))
    assert code == 1 and "checked: lines 8  valid 4  bad 4" in out
    assert "line 5: transaction_id: required for import" in out
    assert "line 8: transaction_id: required for import" in out
    assert "transactions: 0" in cli("verify")[1]


def test_conflicting_line_is_reported_with_its_line_number(cli: Cli, tmp_path: Path) -> None:
    original = sets(5)
    write_jsonl(tmp_path / "first.jsonl", original)
    assert cli("import", str(tmp_path / "first.jsonl"))[0] == 0
    changed = json.loads(line(original[3]))
    changed["entries"][0]["description"] = "edited"
    changed["entries"][1]["description"] = "edited"
    source = write_jsonl(tmp_path / "second.jsonl", original[:2], [json.dumps(changed)])
    code, out, _ = cli("import", str(source))
    assert code == 1 and f"line 3: transaction {original[3].transaction_id} already recorded" in out
    assert "conflicting 1" in out
    assert cli("verify")[0] == 0


async def test_concurrent_importers_of_overlapping_files_store_each_set_once(ledger_url: str) -> None:
    every = sets(300, seed=9)
    engines = []
    for _ in range(3):
        store = open_store(parse_store_url(ledger_url))
        await store.connect()
        await store.apply_schema()
        engines.append(Engine(store))
    parts = [every[:200], every[100:], every[50:250]]
    results = await asyncio.gather(
        *(load(engine, part, chunk=37) for engine, part in zip(engines, parts, strict=True))
    )
    assert sum(r.transactions - r.duplicates for r in results) == len(every)
    report = await engines[0].verify()
    assert report.ok and report.transactions == len(every), report.problems
    for engine in engines:
        await engine.close()


@pytest.mark.cassandra
@pytest.mark.parametrize("store_kind", ["cassandra"])  # SQLite writes a chunk in one transaction
async def test_claimed_but_unmaterialised_sets_are_told_apart_then_repaired(ledger_url: str) -> None:
    store = open_store(parse_store_url(ledger_url))
    await store.connect()
    await store.apply_schema()
    engine = Engine(store)
    await load(engine, sets(20))
    crashed = sets(12, seed=77)[1:]
    recorded_at = datetime.now(UTC).replace(microsecond=0)
    transactions = [
        RecordedTransaction(s.transaction_id, s.legs, s.payload_hash, recorded_at) for s in crashed
    ]
    # A writer that dies after logging and claiming, before any row: exactly what a kill -9 leaves.
    writer = store._writer  # type: ignore[attr-defined]
    key = await writer.log(transactions)
    shards = await store._claim_shards()  # type: ignore[attr-defined]
    from ledger_tui.domain.claims import shard_of

    for t in transactions:
        await writer._claim_batch((shard_of(t.transaction_id, shards), 0), [(t, key[2])])  # no limits
    report = await engine.verify(repair=False)
    assert not report.ok and len(report.problems) == len(crashed)
    assert all(
        "claimed, not yet materialised" in p and "run: ledger-tui repair" in p for p in report.problems
    )
    repaired = await engine.repair()
    assert (repaired.unfinished, repaired.completed) == (1, len(crashed))
    report = await engine.verify(repair=False)
    assert report.ok and report.transactions == 21 + len(crashed), report.problems
    assert (await engine.repair()).completed == 0  # idempotent: the log row is done now
    await engine.close()


def test_kill_9_of_the_importing_client_then_rerun_is_exact(
    ledger_url: str, store_kind: str, tmp_path: Path
) -> None:
    # Cut short once the first sets are written: 12,000 sets take a few seconds on either store.
    every = sets(12000, seed=21)
    source = write_jsonl(tmp_path / "big.jsonl", every)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "ledger_tui", "--store", ledger_url]
    subprocess.run([*command, "schema", "apply"], check=True, env=env, capture_output=True)
    # Two workers (on Cassandra; the embedded store imports in one process), in a session of its
    # own, so that the whole import is one process group: its workers must die with it.
    importer = subprocess.Popen(
        [*command, "import", str(source), "--chunk", "200", "--workers", "2"], env=env, start_new_session=True
    )
    wait_until_writing(ledger_url, importer)
    assert importer.poll() is None, "the import finished before it could be killed: use a bigger file"
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    assert _group_gone(importer.pid, within_s=10), "a worker outlived the killed import"
    partial = subprocess.run([*command, "verify", "--no-repair"], env=env, capture_output=True, text=True)
    assert f"transactions: {len(every)}" not in partial.stdout  # it really was cut short
    rerun = subprocess.run([*command, "import", str(source)], env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    verify = subprocess.run([*command, "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0 and f"transactions: {len(every)}" in verify.stdout, verify.stdout


def _group_gone(group: int, within_s: float) -> bool:
    """Whether every process of ``group`` has exited (checked for up to ``within_s``)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_sets_of_the_largest_size_import_in_one_claim_shard(
    ledger_url: str, store_kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Thirty sets of ~115 KB of text (200 legs) in one claim shard: ~4 MB of claims, more than
    one mutation may hold on the local node (2.5 MiB), were refused whole before claim groups
    were bounded by bytes ("CQL Message of size ... exceeds allowed maximum")."""
    url = f"{ledger_url}?claim_shards=1" if store_kind == "cassandra" else ledger_url
    assert main(["--store", url, "schema", "apply"]) == 0
    legs = [
        {
            "address": {
                "legal_entity": "le",
                "namespace": "ns",
                "name": f"n{j % 10}",
                "currency": "GBP",
                "account_id": f"a{j}",
            },
            "amount": "1.00",
            "type": "debit" if j % 2 else "credit",
            "description": "d" * 560,
            "timestamp": to_epoch_ms(UNTIL) - 86_400_000,
        }
        for j in range(200)
    ]
    source = tmp_path / "large.jsonl"
    source.write_text(
        "".join(json.dumps({"transaction_id": str(uuid.uuid4()), "entries": legs}) + "\n" for _ in range(30))
    )
    capsys.readouterr()
    assert main(["--store", url, "import", str(source), "--chunk", "30"]) == 0
    assert "sets 30 (new 30," in capsys.readouterr().out
    assert main(["--store", url, "verify", "--no-repair"]) == 0
    out = capsys.readouterr().out
    assert "transactions: 30" in out and "entries: 6000" in out and "verify: OK" in out
