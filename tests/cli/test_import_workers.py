"""``import --workers N`` on the node: the one-process import's guarantees hold with worker processes.

Each test runs the real command in a fresh process (workers are forked, which a pytest process
with driver threads must not do) against its own keyspace, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger_tui.cli.import_lines import MAX_CHUNK, MIN_CHUNK, SHOWN_PROBLEMS, Gathered, chunk_size
from ledger_tui.cli.import_worker import parse_chunk

from ..support.stores import JANITOR, store_url, wait_until_writing
from .test_import import line, sets, write_jsonl

Run = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[2]


def command_runner(url: str) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ledger_tui", "--store", url, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)

    return run


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[str]:
    url = JANITOR.lend()
    assert command_runner(url)("schema", "apply").returncode == 0
    yield url
    JANITOR.give_back(url)


def recorded(run: Run) -> int:
    verify = run("verify", "--no-repair")
    found = re.search(r"transactions: (\d+)", verify.stdout)
    assert found, verify.stdout + verify.stderr
    return int(found.group(1))


@pytest.mark.cassandra
def test_parallel_import_then_rerun_is_exact(node_url: str, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "sets.jsonl", sets(400, seed=31))
    run = command_runner(node_url)
    first = run("import", str(source), "--workers", "3", "--chunk", "40")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "sets 401 (new 401, already there 0, conflicting 0, bad lines 0)" in first.stdout
    again = run("import", str(source), "--workers", "2", "--chunk", "25")
    assert again.returncode == 0 and "(new 0, already there 401" in again.stdout, again.stdout
    verify = run("verify")
    assert verify.returncode == 0 and "transactions: 401" in verify.stdout and "verify: OK" in verify.stdout


@pytest.mark.cassandra
def test_bad_line_stops_the_workers_before_its_chunk(node_url: str, tmp_path: Path) -> None:
    good = sets(300, seed=32)  # 301 sets: lines 126 and 200 are made bad
    texts = [line(s) for s in good]
    texts[125] = '{"transaction_id": "x", "entries": []}'
    texts[199] = "{not json"
    source = tmp_path / "bad.jsonl"
    source.write_text("".join(text + "\n" for text in texts))
    run = command_runner(node_url)
    aborted = run("import", str(source), "--workers", "3", "--chunk", "12")
    # Line 126 is in the eleventh chunk (lines 121-132): the ten before it are recorded, nothing after.
    assert aborted.returncode == 1, aborted.stdout + aborted.stderr
    assert "line 126:" in aborted.stdout and "line 200" not in aborted.stdout
    assert "120 set(s) before its chunk were recorded" in aborted.stdout
    assert recorded(run) == 120
    skipped = run("import", str(source), "--workers", "3", "--chunk", "12", "--on-error", "skip")
    assert skipped.returncode == 1
    assert skipped.stdout.index("line 126:") < skipped.stdout.index("line 200:")  # in line order
    assert "(new 179, already there 120, conflicting 0, bad lines 2)" in skipped.stdout
    assert recorded(run) == 299


@pytest.mark.cassandra
@pytest.mark.parametrize(
    "bad_json_at",
    [None, 125, 110],
    ids=["utf8-only", "bad-json-in-its-chunk", "bad-json-a-chunk-before"],
)
def test_a_line_not_utf8_stops_the_workers_as_it_stops_one_process(
    tmp_path: Path, bad_json_at: int | None
) -> None:
    """Line 127 is not UTF-8 (in the eleventh chunk, lines 121-132): the first bad line is the
    one reported, nothing of its chunk or after is written, whatever the number of processes."""
    texts = [line(s).encode() for s in sets(200, seed=34)]
    texts[126] = b'{"caf\xe9": 1}'
    if bad_json_at is not None:
        texts[bad_json_at - 1] = b"{not json"
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"".join(text + b"\n" for text in texts))
    reports = {}
    for workers in ("1", "3"):
        url = JANITOR.lend()
        run = command_runner(url)
        try:
            assert run("schema", "apply").returncode == 0
            done = run("import", str(source), "--workers", workers, "--chunk", "12")
            assert done.returncode == 1, done.stdout + done.stderr
            reports[workers] = (re.findall(r"line (\d+):", done.stdout), recorded(run))
        finally:
            JANITOR.give_back(url)
    first_bad = str(bad_json_at or 127)
    assert reports["3"][0] == [first_bad], reports
    assert reports["3"][1] == (bad_json_at or 121) // 12 * 12, reports
    assert reports["1"] == reports["3"]


@pytest.mark.cassandra
def test_conflicting_line_is_reported_by_the_workers(node_url: str, tmp_path: Path) -> None:
    original = sets(60, seed=33)
    run = command_runner(node_url)
    assert run("import", str(write_jsonl(tmp_path / "first.jsonl", original[:50]))).returncode == 0
    changed = json.loads(line(original[40]))
    changed["entries"][0]["description"] = "edited"
    texts = [line(s) for s in original]
    texts[40] = json.dumps(changed)
    source = tmp_path / "second.jsonl"
    source.write_text("".join(text + "\n" for text in texts))
    result = run("import", str(source), "--workers", "2", "--chunk", "7")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"line 41: transaction {original[40].transaction_id} already recorded" in result.stdout
    assert "(new 11, already there 49, conflicting 1, bad lines 0)" in result.stdout
    assert run("verify").returncode == 0


@pytest.mark.cassandra
def test_unreadable_text_stops_after_the_chunks_before_it(node_url: str, tmp_path: Path) -> None:
    texts = [line(s) for s in sets(200, seed=34)]
    source = tmp_path / "latin1.jsonl"
    source.write_bytes(
        "".join(t + "\n" for t in texts[:150]).encode() + b'{"caf\xe9": 1}\n' + texts[150].encode() + b"\n"
    )
    run = command_runner(node_url)
    result = run("import", str(source), "--workers", "2", "--chunk", "20")
    assert result.returncode == 1 and "not UTF-8 text" in result.stdout, result.stdout + result.stderr
    written = int(re.search(r"(\d+) set\(s\) before its chunk", result.stdout).group(1))  # type: ignore[union-attr]
    assert written % 20 == 0 and written <= 140  # whole chunks only, none past the bad bytes
    assert recorded(run) == written


@pytest.mark.cassandra
def test_a_refused_worker_is_reported_as_one_process_reports_it(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "sets.jsonl", sets(100, seed=35))
    run = command_runner("cassandra://127.0.0.1:1/nowhere")  # nothing listens there
    result = run("import", str(source), "--workers", "2", "--chunk", "10", timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "store unavailable" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.cassandra
def test_ctrl_c_lets_the_chunks_being_written_finish_whole(node_url: str, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "big.jsonl", sets(12000, seed=37))
    importer = _start_import(node_url, source, start_new_session=True)
    wait_until_writing(node_url, importer)  # cut short once it writes, not after a guessed sleep
    assert importer.poll() is None, "the import finished before Ctrl-C: use a bigger file"
    os.killpg(importer.pid, signal.SIGINT)  # as a terminal does: the whole foreground group
    out, err = importer.communicate(timeout=120)
    assert importer.returncode == 130 and "interrupted" in err and "Traceback" not in err, out + err
    run = command_runner(node_url)
    verify = run("verify", "--no-repair")  # nothing half-written: every started chunk finished
    assert verify.returncode == 0 and "verify: OK" in verify.stdout, verify.stdout
    count = recorded(run)
    assert 0 < count < 12001 and count % 200 == 0


@pytest.mark.cassandra
def test_a_worker_killed_mid_import_is_not_confirmed_and_a_rerun_is_exact(
    node_url: str, tmp_path: Path
) -> None:
    every = sets(12000, seed=38)
    source = write_jsonl(tmp_path / "big.jsonl", every)
    importer = _start_import(node_url, source)
    time.sleep(1.5)
    workers = _children(importer.pid)
    assert importer.poll() is None and len(workers) == 2, "the import finished too soon: use a bigger file"
    os.kill(workers[1], signal.SIGKILL)
    out, err = importer.communicate(timeout=120)
    assert importer.returncode == 3 and "not confirmed" in err and "Traceback" not in err, out + err
    run = command_runner(node_url)
    rerun = run("import", str(source))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert run("verify").returncode == 0 and recorded(run) == len(every)


def _start_import(url: str, source: Path, *, start_new_session: bool = False) -> subprocess.Popen[str]:
    """``import`` with two workers and small chunks, in the background (output captured)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger_tui",
            "--store",
            url,
            "import",
            str(source),
            "--workers",
            "2",
            "--chunk",
            "200",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=start_new_session,
    )


def _children(parent: int) -> list[int]:
    """Process ids whose parent is ``parent`` (from /proc: Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return sorted(found)


def test_workers_flag_on_the_embedded_store_imports_exactly(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "sets.jsonl", sets(120, seed=39))
    run = command_runner(store_url("sqlite", tmp_path))
    result = run("import", str(source), "--workers", "3", "--chunk", "25")
    assert result.returncode == 0 and "sets 121 (new 121" in result.stdout, result.stdout + result.stderr
    assert recorded(run) == 121


def test_a_chunk_is_parsed_up_to_its_first_bad_line_unless_bad_lines_are_skipped() -> None:
    texts = [line(s) for s in sets(4, seed=36)]
    numbered = [(10, texts[0]), (11, "[1]"), (12, texts[1]), (14, "{"), (15, texts[2])]
    aborting = parse_chunk(numbered, skip_bad=False)
    assert aborting.line_of == [10] and [n for n, _ in aborting.problems] == [11]
    skipping = parse_chunk(numbered, skip_bad=True)
    assert skipping.line_of == [10, 12, 15] and [n for n, _ in skipping.problems] == [11, 14]
    assert [s.transaction_id for s in skipping.sets] == [s.transaction_id for s in sets(4, seed=36)[:3]]


def test_problems_gathered_out_of_order_are_shown_in_line_order() -> None:
    gathered = Gathered()
    gathered.add([(300 + n, "late") for n in range(SHOWN_PROBLEMS)], more=4)  # a later chunk first
    gathered.add([(30, "c"), (4, "a")], more=0)
    problems = gathered.in_line_order()
    assert problems.shown[:3] == ["line 4: a", "line 30: c", "line 300: late"]
    assert len(problems.shown) == SHOWN_PROBLEMS and len(problems) == SHOWN_PROBLEMS + 2 + 4


def test_chunks_are_sized_from_the_file_so_each_worker_holds_two_within_bounds() -> None:
    sample = [(n, "x" * 99 + "\n") for n in range(1, 201)]  # 100 bytes a line
    assert chunk_size(None, sample, workers=2) == MIN_CHUNK  # a pipe: its size is unknown
    assert chunk_size(10_000, sample, workers=2) == MIN_CHUNK  # a small file
    assert chunk_size(100 * 24_000, sample, workers=2) == 6_000  # 24,000 lines: 4 chunks
    assert chunk_size(100 * 24_000, sample, workers=3) == MIN_CHUNK
    assert chunk_size(100 * 1_000_000, sample, workers=2) == MAX_CHUNK
    wide = [(n, "é" * 49 + "\n") for n in range(1, 201)]  # 99 bytes a line, in 50 characters
    assert chunk_size(99 * 40_000, wide, workers=2) == 10_000


@pytest.mark.cassandra
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_terminal_sees_progress_with_entries_per_second(
    node_url: str, tmp_path: Path, workers: str
) -> None:
    source = write_jsonl(tmp_path / "sets.jsonl", sets(3000, seed=40))
    primary, secondary = pty.openpty()
    command = [sys.executable, "-m", "ledger_tui", "--store", node_url, "import", str(source)]
    importer = subprocess.Popen(
        [*command, "--workers", workers, "--chunk", "100"],
        env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "120"},
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    shown = b""
    with contextlib.suppress(OSError):  # the terminal closes when the import exits
        while chunk := os.read(primary, 65536):
            shown += chunk
    os.close(primary)
    assert importer.wait(timeout=120) == 0, shown[-2000:]
    text = shown.decode(errors="replace")
    assert re.search(r"importing: [\d,]+ sets\s+[\d,]+ entries/s", text), text[-2000:]
    assert "imported: sets 3001 (new 3001" in text
