"""Console benchmark: CPU time per keystroke in compose, and cold start to the first frame with data.

Fills a demo-sized SQLite ledger (the demo's 2,000 generated sets), then
- types into compose through Textual's pilot (headless, the app's real key path) and reports
  the CPU milliseconds each key costs: an address part with completions on, and the tail of a
  5,000-character description; beside it the same measure for a bare two-Input Textual form;
- starts a fresh Python process that opens the console on browse at the demo's account and
  reports the wall time from process start to the first frame showing its entries.
- draws a 730-point daily chart of a named balance on the chart screen (end to end: enter to
  table filled) and times the engine's series read alone, counting the live (non-block) reads.
Targets: <= 10 ms per keystroke, <= 1.0 s cold start, a 730-point chart <= 300 ms.
Usage: python bench/console.py [--sets N] [--keys N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.compose.leg_editor import LegEditor
from ledger_tui.ledger import LedgerOptions, build_engine, open_ledger
from ledger_tui.loader import DEFAULT_SEED, generated_sets, load, sample_entry_set

KEY_TARGET_MS = 10.0
START_TARGET_S = 1.0
CHART_TARGET_S = 0.3
CHART_TARGET = "customer-facing-balance"


async def fill(path: Path, sets: int) -> None:
    """The demo's ledger: the origin's sample plus ``sets`` generated sets over 24 months, sealed."""
    until = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    options = LedgerOptions(store=f"sqlite:{path}", seal_margin=timedelta(0))
    async with open_ledger(options) as engine:
        await load(engine, [sample_entry_set(), *generated_sets(sets, 24, until, DEFAULT_SEED)])
        await engine.seal()
        accounts = len(await engine.accounts())
    print(f"ledger: {sets + 1} sets, {accounts} accounts ({path})")


async def cpu_per_key(pilot: Pilot[None], field: Input, text: str) -> list[float]:
    """CPU milliseconds of each key typed into ``field`` (the pilot waits until each is handled)."""
    field.focus()
    await pilot.pause()
    costs = []
    for character in text:
        started = time.process_time()
        await pilot.press(character)
        costs.append((time.process_time() - started) * 1000)
    return costs


class BareForm(App[None]):
    """The baseline: two plain Inputs, nothing listening."""

    def compose(self) -> ComposeResult:
        yield Input()
        yield Input()


def summary(costs: list[float]) -> str:
    ordered = sorted(costs)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(costs):6.2f}  p95 {p95:6.2f}"


async def keystrokes(path: Path, keys: int) -> dict[str, float]:
    """Per-key CPU time in compose (address part, long description) and in a bare form."""
    results: dict[str, float] = {}
    bare = BareForm()
    async with bare.run_test(size=(120, 40)) as pilot:
        costs = await cpu_per_key(pilot, bare.query(Input).first(), "x" * keys)
        print(f"bare Textual form       ms/key  {summary(costs)}")
        results["bare"] = statistics.median(costs)
    engine = build_engine(LedgerOptions(store=f"sqlite:{path}"))
    # No change-feed follower: it runs until the app closes (waiting for every worker would hang).
    app = LedgerApp(engine, cursor_blink=False, live=None)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(20):  # the accounts for completions arrive in a worker
            await app.workers.wait_for_complete()
            await pilot.pause()
        editor = app.screen.query(LegEditor).first()
        address = "fintech_uk/com.fintech.customer"[: min(keys, 40)]
        namespace = editor.query_one(".field-namespace", Input)
        costs = await cpu_per_key(pilot, namespace, address * (keys // 40 + 1))
        print(f"compose address part    ms/key  {summary(costs[:keys])}")
        results["address"] = statistics.median(costs[:keys])
        description = editor.query_one(".field-description", Input)
        description.value = "d" * (5000 - keys)
        description.cursor_position = len(description.value)
        costs = await cpu_per_key(pilot, description, "d" * keys)
        print(f"compose description 5k  ms/key  {summary(costs)}  (last {keys} of 5,000 characters)")
        results["description"] = statistics.median(costs)
    await engine.close()
    return results


async def chart_730(path: Path, runs: int) -> dict[str, float]:
    """Seconds for a 730-point daily chart: the engine's read alone, and the chart screen end to end."""
    from ledger_tui.app.chart.screen import ChartScreen
    from ledger_tui.domain.timeutil import Granularity, TimeRange

    engine = build_engine(LedgerOptions(store=f"sqlite:{path}"))
    await engine.connect()
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    window = TimeRange(end - timedelta(days=730), end)
    live_reads = 0
    original = engine._parts.each_movement_page

    async def counted(*args: object, **kwargs: object) -> None:
        nonlocal live_reads
        live_reads += 1
        await original(*args, **kwargs)  # type: ignore[arg-type]

    engine._parts.each_movement_page = counted  # type: ignore[method-assign]
    reads = []
    for _ in range(runs):
        started = time.perf_counter()
        series = await engine.balance_series(CHART_TARGET, window, Granularity.DAY)
        reads.append(time.perf_counter() - started)
    points = len({point.period for point in series})
    engine._parts.each_movement_page = original  # type: ignore[method-assign]
    app = LedgerApp(engine, cursor_blink=False, start_screen="chart", seal_every=None, live=None)
    draws = []
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(20):
            await app.workers.wait_for_complete()
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        assert window.start is not None
        screen.query_one("#range-from", Input).value = window.start.strftime("%Y-%m-%d")
        screen.query_one("#range-to", Input).value = end.strftime("%Y-%m-%d")
        screen.query_one("#chart-granularity").value = "day"  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(runs):
            started = time.perf_counter()
            screen.action_draw()
            while True:
                await pilot.pause(0.002)
                charting = any(worker.group == "chart" and worker.is_running for worker in app.workers)
                if not charting and screen.query_one("#chart-table", DataTable).row_count >= points:
                    break
            draws.append(time.perf_counter() - started)
    await engine.close()
    read, draw = statistics.median(reads), statistics.median(draws)
    print(
        f"chart 730 daily points  engine read p50 {read * 1000:6.1f} ms  ({live_reads // runs} live "
        f"reads per series, the rest from blocks)  screen enter-to-drawn p50 {draw * 1000:6.1f} ms"
    )
    return {"read": read, "draw": draw, "points": points}


CHILD = """
import asyncio, sys, time
from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse.entries_panel import EntriesPanel
from ledger_tui.domain.timeutil import bucket_of
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.loader import sample_entry_set

async def main() -> None:
    first = sample_entry_set().legs[0]
    engine = build_engine(LedgerOptions(store=sys.argv[1]))
    start_on = (first.address, bucket_of(first.effective_at))
    app = LedgerApp(engine, start_screen="browse", initial_account=start_on)
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            await pilot.pause(0.005)
            panels = app.screen.query(EntriesPanel)
            if panels and panels.first().query_one("#entries").row_count:
                break
        print(time.time())
    await engine.close()

asyncio.run(main())
"""


def cold_start(path: Path) -> float:
    """Seconds from spawning a fresh interpreter to the browse screen showing entries."""
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, f"sqlite:{path}"], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1]) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=2000, help="generated sets (the demo's 2,000)")
    parser.add_argument("--keys", type=int, default=200, help="keys typed per measure")
    parser.add_argument("--runs", type=int, default=5, help="cold starts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-console-") as folder:
        path = Path(folder) / "demo.sqlite"
        asyncio.run(fill(path, args.sets))
        keys = asyncio.run(keystrokes(path, args.keys))
        starts = [cold_start(path) for _ in range(args.runs)]
        chart = asyncio.run(chart_730(path, args.runs))
    worst = max(keys["address"], keys["description"])
    start = statistics.median(starts)
    print(
        json.dumps(
            {
                "ms_per_key_compose": round(worst, 2),
                "ms_per_key_bare_form": round(keys["bare"], 2),
                "compose_vs_bare": round(worst / keys["bare"], 2),
                "key_target_ratio": round(worst / KEY_TARGET_MS, 2),
                "cold_start_s_p50": round(start, 3),
                "cold_start_s_max": round(max(starts), 3),
                "cold_start_target_ratio": round(start / START_TARGET_S, 2),
                "chart_730_points": chart["points"],
                "chart_730_read_s_p50": round(chart["read"], 3),
                "chart_730_drawn_s_p50": round(chart["draw"], 3),
                "chart_730_target_ratio": round(chart["draw"] / CHART_TARGET_S, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
