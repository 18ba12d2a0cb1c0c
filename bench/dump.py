"""Dump and restore at volume: entries/s of each beside `import` of the same sets, and the dump's peak RSS.

For each store: generated sets (about ``--entries`` entries) are imported into a fresh ledger
(the baseline), dumped to a file (timed, peak RSS of the process), restored into another fresh
ledger (timed), and the two ledgers' digests compared. Each step is the real command in its own
process. Targets: restore >= 0.9x import; dump peak RSS <= 200 MB at 1M entries.
Columns: each command's entries/s end to end (process start to exit: restore includes its seal
and the digest it ends on); ratios of restore to import end to end, to import followed by
``seal`` (the same derived data), and of restore's write phase alone to import.
Usage: python bench/dump.py [--entries N] [--stores sqlite,cassandra] [--host 127.0.0.1:9042]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import jsonl

from ledger_tui.loader import generated_sets

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
CLI = [sys.executable, "-m", "ledger_tui"]


def run(store: str, *args: str) -> tuple[float, str, float]:
    """Seconds, output and peak RSS (MB) of one command in its own process. The peak is the
    child's VmHWM, read until it exits (ru_maxrss of a forked child counts this process's
    memory at the fork, and this one holds the generated sets)."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen([*CLI, "--store", store, *args], stdout=output, stderr=subprocess.STDOUT)
        peak_kb = 0
        while process.poll() is None:
            peak_kb = max(peak_kb, _high_water_kb(process.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"ledger-tui {' '.join(args)} failed: {text}")
    return seconds, text, peak_kb / 1024


def _high_water_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) if found else 0


def store_urls(kind: str, directory: Path, host: str) -> tuple[str, str]:
    if kind == "sqlite":
        return f"sqlite:{directory / 'imported.sqlite'}", f"sqlite:{directory / 'restored.sqlite'}"
    tag = uuid.uuid4().hex[:8]
    return f"cassandra://{host}/bench_imported_{tag}", f"cassandra://{host}/bench_restored_{tag}"


def bench(kind: str, source: Path, entries: int, directory: Path, host: str) -> None:
    imported, restored = store_urls(kind, directory, host)
    for url in (imported, restored):
        run(url, "schema", "apply")
    import_s, _, _ = run(imported, "import", str(source))
    seal_s, _, _ = run(imported, "seal")  # restore seals too: (import + seal) is the like-for-like
    dump = directory / f"{kind}.dump.jsonl"
    dump_s, dump_out, dump_peak = run(imported, "dump", str(dump))
    restore_s, restore_out, _ = run(restored, "restore", str(dump))
    equal = "equal" in restore_out
    found = re.search(r"restore: sets .* seconds ([0-9.]+)", restore_out)
    write_s = float(found.group(1)) if found else float("nan")
    sizes = dump.stat().st_size / 1e6
    print(
        f"{kind:<10}{entries:>10,}{entries / import_s:>12,.0f}{entries / dump_s:>12,.0f}"
        f"{entries / restore_s:>13,.0f}{import_s / restore_s:>9.2f}{(import_s + seal_s) / restore_s:>9.2f}"
        f"{entries / write_s:>13,.0f}{import_s / write_s:>9.2f}"
        f"{dump_peak:>13.0f}{sizes:>10.0f}  {'equal' if equal else 'DIFFERENT'}"
    )
    if kind == "cassandra":
        for url in (imported, restored):
            _drop(host, url.rsplit("/", 1)[1])
    dump.unlink()
    del dump_out


def _drop(host: str, keyspace: str) -> None:
    from cassandra.cluster import Cluster

    address, _, port = host.partition(":")
    cluster = Cluster([address], port=int(port or 9042), protocol_version=5)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    finally:
        cluster.shutdown()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000, help="about this many entries")
    parser.add_argument("--stores", default="sqlite,cassandra")
    parser.add_argument("--host", default="127.0.0.1:9042")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z,]+", args.stores):
        raise SystemExit("--stores: sqlite and/or cassandra")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-dump-") as name:
        directory = Path(name)
        sets = []
        total = 0
        for entry_set in generated_sets(args.entries, 24, UNTIL, seed=7):
            sets.append(entry_set)
            total += len(entry_set.legs)
            if total >= args.entries:
                break
        source = directory / "sets.jsonl"
        jsonl(sets, source)
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%MZ} {platform.node()} cpus={os.cpu_count()} "
            f"{len(sets):,} sets, {total:,} entries ({source.stat().st_size / 1e6:.0f} MB of JSON Lines)"
        )
        print(
            f"{'store':<10}{'entries':>10}{'import e/s':>12}{'dump e/s':>12}{'restore e/s':>13}"
            f"{'ratio':>9}{'+seal':>9}{'writes e/s':>13}{'ratio':>9}{'dump RSS MB':>13}{'dump MB':>10}"
            "  digests"
        )
        for kind in args.stores.split(","):
            bench(kind, source, total, directory, args.host)


if __name__ == "__main__":
    main()
