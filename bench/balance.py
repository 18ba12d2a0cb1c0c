"""Balance benchmark: balance blocks beside the full fold, one account at 10k, 100k and 1M entries.

One run, both stores. Each ledger: one hot account filled over 24 whole months (see
bench/balance_phases.py for how), plus one ledger of 10,000 customer accounts for a named
balance. Every read is measured twice: with blocks (the engine as shipped) and as the full fold
(``Engine.full_fold()``: the same read path with blocks ignored, i.e. what an unsealed ledger
costs). Every measurement runs in a process of its own, so its peak RSS (``ru_maxrss``, a
lifetime maximum) is that measurement's. Prints p50/p95 ms, peak RSS, the speed-up, the growth
from the smallest to the largest size, ``verify`` of the largest ledger, and each target.
Usage: python bench/balance.py [--sizes 10000,100000,1000000] [--stores sqlite,cassandra]
       [--host H:P] [--reps 20] [--budget 30] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import balance_phases  # bench/ leads sys.path when this runs as a script

MEASURES = [
    "balance 24 months",
    "balance last month",
    "balance mid-month to mid-month",
    "as-of balance (12 months)",
    "as-of balance (24 months)",
    "chart, daily points",
    "one round trip",  # the floor: one store call (a missing node's seal state), no ledger rules
]
NAMED = "named balance"
#: p50 targets (ms) at the largest size: per store where they differ.
TARGETS_MS = {
    ("balance 24 months", "sqlite"): 20.0,
    ("balance 24 months", "cassandra"): 50.0,
    ("chart, daily points", "sqlite"): 300.0,
    ("chart, daily points", "cassandra"): 300.0,
    (NAMED, "sqlite"): 500.0,
    (NAMED, "cassandra"): 500.0,
}
RSS_TARGET_MB, VERIFY_RSS_TARGET_MB, GROWTH_TARGET, SPEEDUP_TARGET = 150.0, 200.0, 1.5, 100.0


def phase(*flags: str) -> dict[str, Any]:
    """Run one phase in a fresh process and return its JSON line."""
    command = [sys.executable, __file__, *flags]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {' '.join(flags)} failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def quantile(samples: list[float], q: float) -> float:
    """The ``q`` quantile in milliseconds (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def url_for(store: str, label: str, host: str, tmp: Path) -> str:
    """A fresh ledger for ``label`` on ``store``."""
    if store == "sqlite":
        return f"sqlite:{tmp / f'{label}.sqlite'}"
    return f"cassandra://{host}/bench_balance_{label}_{uuid.uuid4().hex[:6]}"


def measure(url: str, name: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """One read with blocks and as the full fold, each in its own process."""
    result = {}
    for mode in ("blocks", "full"):
        flags = ["--phase", "measure", "--url", url, "--measure", name, "--mode", mode]
        result[mode] = phase(*flags, "--reps", str(args.reps), "--budget", str(args.budget))
    if result["blocks"]["digest"] != result["full"]["digest"]:
        raise SystemExit(f"{name} on {url}: blocks and the full fold disagree")
    return result


def print_rows(
    store: str, what: str, fill: dict[str, Any], rows: dict[str, dict[str, dict[str, Any]]]
) -> None:
    """One ledger: every read, blocks beside the full fold."""
    rate = fill["entries"] / fill["write_seconds"]
    print(
        f"\n{store}, {what}: fill {fill['entries']:,} entries in "
        f"{fill['write_seconds']:.1f} s ({rate:,.0f} entries/s, not timed below), "
        f"seal {fill['seal_seconds']:.1f} s"
    )
    head = f"{'read':<33}{'p50 ms':>9}{'p95 ms':>9}{'cpu p50':>8}{'RSS MB':>8} |{'full p50':>10}{'p95':>9}"
    print(head + f"{'n':>4}{'RSS MB':>8} |{'speed-up':>9}")
    for name, modes in rows.items():
        b, f = modes["blocks"], modes["full"]
        b50, f50 = quantile(b["samples"], 0.5), quantile(f["samples"], 0.5)
        label = name if b.get("points") is None else f"{name} ({b['points']})"
        print(
            f"{label:<33}{b50:>9.2f}{quantile(b['samples'], 0.95):>9.2f}{quantile(b['cpu'], 0.5):>8.2f}"
            f"{b['rss_mb']:>8.0f} |"
            f"{f50:>10.1f}{quantile(f['samples'], 0.95):>9.1f}{len(f['samples']):>4}{f['rss_mb']:>8.0f} |"
            f"{f50 / b50:>8.0f}x"
        )


def verdict(figure: float, target: float) -> str:
    """``ratio (met|MISSED)`` where the figure must stay at or below the target."""
    return f"{figure / target:>6.2f}  {'met' if figure <= target else 'MISSED'}"


def targets(results: dict[str, Any], sizes: list[int]) -> None:
    """Every target of the issue beside our figure."""
    small, large = sizes[0], sizes[-1]
    print(f"\ntargets (at {large:,} entries; growth {small:,} -> {large:,})")
    print(f"{'store':<10}{'figure':<52}{'ours':>10}{'target':>9}  ratio  verdict")
    for store, per_store in results.items():
        rows = per_store["sizes"]

        def p50(
            name: str,
            size: int,
            mode: str = "blocks",
            per_store: dict[str, Any] = per_store,
            key: str = "samples",
        ) -> float:
            modes = per_store["named"] if name == NAMED else per_store["sizes"][size]["reads"][name]
            return quantile(modes[mode][key], 0.5)

        lines: list[tuple[str, float, float]] = []
        for (name, kind), target in TARGETS_MS.items():
            if kind == store:
                lines.append((f"{name} p50 ms", p50(name, large), target))
        for name in MEASURES[:-1]:
            lines.append((f"growth of {name} p50 (x)", p50(name, large) / p50(name, small), GROWTH_TARGET))
            cpu = p50(name, large, key="cpu") / p50(name, small, key="cpu")  # what load does not inflate
            lines.append(("  the same in client CPU (x)", cpu, GROWTH_TARGET))
        speed = p50("balance 24 months", large, "full") / p50("balance 24 months", large)
        lines.append(("full fold / blocks, 24 months (x, at least)", SPEEDUP_TARGET, speed))
        rss = max(m["blocks"]["rss_mb"] for r in rows.values() for m in r["reads"].values())
        rss = max(rss, per_store["named"]["blocks"]["rss_mb"])
        lines.append(("peak RSS of any read with blocks, MB", rss, RSS_TARGET_MB))
        lines.append(("verify peak RSS, MB", per_store["verify"]["rss_mb"], VERIFY_RSS_TARGET_MB))
        for label, ours, target in lines:
            if label.startswith("full fold"):  # a floor, not a ceiling
                ours, target = target, ours
                met = "met" if ours >= target else "MISSED"
                print(f"{store:<10}{label:<52}{ours:>10.1f}{target:>9.1f}{ours / target:>6.2f}  {met}")
            else:
                print(f"{store:<10}{label:<52}{ours:>10.2f}{target:>9.1f}{verdict(ours, target)}")


def run(args: argparse.Namespace) -> None:
    """Fill, measure and report every store and size."""
    sizes = sorted(int(s) for s in args.sizes.split(","))
    stamp = time.strftime("%Y-%m-%d %H:%MZ", time.gmtime())
    load = os.getloadavg()
    machine = f"{platform.node()} {platform.machine()} cores={os.cpu_count()}"
    print(f"machine: {machine}  {stamp}  load {load[0]:.1f}")
    print(f"sizes {sizes}, stores {args.stores}; reads repeated up to {args.reps}x (>= 3, {args.budget} s)")
    started = time.perf_counter()
    results: dict[str, Any] = {}
    urls: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-balance-") as tmp:
        for store in args.stores.split(","):
            per_store: dict[str, Any] = {"sizes": {}}
            idle_url = url_for(store, "idle", args.host, Path(tmp))
            phase("--phase", "fill", "--url", idle_url, "--entries", "730")
            idle = phase("--phase", "idle", "--url", idle_url)
            print(f"\n{store}: a process that connects and reads one small balance: {idle['rss_mb']:.0f} MB")
            urls.append(idle_url)
            for size in sizes:
                url = url_for(store, str(size), args.host, Path(tmp))
                urls.append(url)
                fill = phase("--phase", "fill", "--url", url, "--entries", str(size))
                reads = {name: measure(url, name, args) for name in MEASURES}
                print_rows(store, f"{size:,} entries in the account (sealed monthly)", fill, reads)
                per_store["sizes"][size] = {"fill": fill, "reads": reads}
                if size == sizes[-1]:
                    per_store["verify"] = phase("--phase", "verify", "--url", url)
                    v = per_store["verify"]
                    seconds, rss = v["seconds"], v["rss_mb"]
                    print(f"verify of {size:,} entries: {seconds:.1f} s, peak RSS {rss:.0f} MB, ok={v['ok']}")
            named_url = url_for(store, "named", args.host, Path(tmp))
            urls.append(named_url)
            fill = phase("--phase", "fill-named", "--url", named_url)
            per_store["named"] = measure(named_url, NAMED, args)
            accounts, each = balance_phases.NAMED_ACCOUNTS, balance_phases.NAMED_ENTRIES_EACH
            what = f"{accounts:,} accounts, {each} entries each (sealed once)"
            print_rows(store, what, fill, {NAMED: per_store["named"]})
            results[store] = per_store
        targets(results, sizes)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))
    if not args.keep:
        drop_keyspaces([u for u in urls if u.startswith("cassandra://")], args.host)
    print(f"\nwhole run {time.perf_counter() - started:.0f} s")


def drop_keyspaces(urls: list[str], host: str) -> None:
    """Drop the benchmark's keyspaces from the node (they are large)."""
    if not urls:
        return
    from cassandra.cluster import Cluster

    address, _, port = host.partition(":")
    cluster = Cluster([address], port=int(port or 9042))
    session = cluster.connect()
    for url in urls:
        session.execute(f"DROP KEYSPACE IF EXISTS {url.rsplit('/', 1)[1]}", timeout=120)
    cluster.shutdown()


def main() -> None:
    """Either the whole benchmark or (``--phase``) one of its processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--stores", default="sqlite,cassandra")
    parser.add_argument("--host", default="127.0.0.1:9042")
    parser.add_argument("--reps", type=int, default=20, help="timed repetitions of each read")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds after which a read stops at 3")
    parser.add_argument("--keep", action="store_true", help="keep the Cassandra keyspaces")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--entries", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        balance_phases.main(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
