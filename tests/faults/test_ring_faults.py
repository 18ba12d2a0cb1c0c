"""Fault suite: a bank workload on a 3-node ring (RF 3, LOCAL_QUORUM) while nodes fail.

One node is killed (-9) and restarted, another paused (SIGSTOP) and resumed, while eight
posters transfer money; then two nodes are down and a post must fail fast (exit 3) with nothing
written. Last, on accounts of their own, 50 debits of 10 race against an account funded with 100
and bounded at 0 while a node is killed, then holds on it race for their one outcome near their
expiry: once every unconfirmed debit is re-posted, exactly what the bound allows has passed. After healing (nodes back, `nodetool repair`, `ledger-tui repair`, unconfirmed sets
re-posted with their ids, as a caller told "not confirmed" does): every acknowledged set present exactly once, every
currency sums to zero, `verify` is clean and the fast balances equal a full fold.

`make test` runs it with short phases; `make test-faults` with longer ones, printing the write
availability figures (longest gap between acknowledgements, p99 post latency) per phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cassandra import OperationTimedOut
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.policies import ConstantReconnectionPolicy

from ledger_tui.domain.address import parse_address
from ledger_tui.domain.errors import LedgerError, NotFound, StoreUnavailable
from ledger_tui.domain.limits import LimitExceeded
from ledger_tui.domain.parse import parse_entry_set_json
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.store.cassandra import session

from ..support.bank import BankLog, check_ledger, run_workers
from ..support.entry_sets import transfer
from ..support.ring import OWN_NODES, Ring

pytestmark = [pytest.mark.cassandra, pytest.mark.faults, OWN_NODES]

PHASE = float(os.environ.get("LEDGER_FAULT_PHASE_SECONDS", "3"))
REPORT = os.environ.get("LEDGER_FAULT_REPORT")
KEYSPACE = "bank"
REPO = Path(__file__).resolve().parents[2]


async def tool(ring: Ring, *args: str) -> None:
    await asyncio.to_thread(ring.tool, *args)


async def wait_until_driver_sees(engine: Engine, up: int, budget: float = 30) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < budget:
        nodes = engine.cluster_nodes()
        if nodes is not None and nodes[0] == up:
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - t0


async def settle(engine: Engine, document: str, budget: float = 120) -> None:
    """Re-post an unconfirmed set with its id until it is confirmed (a caller's retry)."""
    deadline = time.monotonic() + budget
    while True:
        try:
            await engine.post_json(document)
            return
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def tables_on_each_node(ring: Ring, budget: float = 60) -> list[set[str]]:
    """The ledger keyspace's tables as each node of the ring reports them (a node the test's
    own connection cannot reach yet on a busy machine is asked again, within ``budget``)."""
    cluster = Cluster(
        [ring.address(n) for n in range(1, ring.nodes + 1)],
        protocol_version=5,
        reconnection_policy=ConstantReconnectionPolicy(0.5),
    )
    query = "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s"
    found: dict[str, set[str]] = {}
    deadline = time.monotonic() + budget
    try:
        driver = cluster.connect()  # not `session`: that names the store's session module here
        while True:
            for host in cluster.metadata.all_hosts():
                if host.address not in found:
                    try:
                        rows = driver.execute(query, (KEYSPACE,), host=host)
                        found[host.address] = {row.table_name for row in rows}
                    except (NoHostAvailable, OperationTimedOut):
                        pass
            if len(found) == ring.nodes or time.monotonic() > deadline:
                return list(found.values())
            time.sleep(0.5)
    finally:
        cluster.shutdown()


async def test_bank_workload_through_node_faults(three_node_ring: Ring, tmp_path: Path) -> None:
    ring = three_node_ring
    store = f"cassandra://{ring.hosts}/{KEYSPACE}?replication=3&consistency=LOCAL_QUORUM"
    engine = build_engine(LedgerOptions(store=store, seal_margin=timedelta(0)))
    try:  # closed whatever fails: an open driver keeps reconnecting to the stopped ring
        await engine.connect()
        # A pool the driver could not open at connect (4 JVMs starting on 2 cores: a connect
        # timeout) marks its node down until the reconnection; a quorum statement before that
        # is refused as "too few nodes up" (CI once did), so the workload starts from 3 seen up.
        waited = await wait_until_driver_sees(engine, 3, budget=60)
        assert engine.cluster_nodes() == (3, 3), f"driver sees {engine.cluster_nodes()} after {waited:.0f}s"
        await engine.apply_schema()
        # Applied means every node has every table (prepares go to any node next).
        tables = await asyncio.to_thread(tables_on_each_node, ring)
        assert len(tables) == 3 and all(t == tables[0] and "ledger_entries" in t for t in tables), tables
        report = await exercise(ring, engine, store, tmp_path)
    finally:
        await engine.close()
    print("\n" + json.dumps(report, indent=1, default=str))
    if REPORT:
        Path(REPORT).write_text(json.dumps(report, indent=1, default=str) + "\n")
    check = report["check"]
    assert report["two_down"]["cli_exit"] == 3, report["two_down"]
    assert report["two_down"]["engine_error"] == "StoreUnavailable", report["two_down"]
    # Refused before any request (the driver knows two of three replicas are down), not after
    # waiting for a node that has not yet noticed: the line names the reason.
    assert "too few Cassandra nodes are up" in report["two_down"]["cli_stderr"], report["two_down"]
    assert "too few Cassandra nodes are up" in report["two_down"]["engine_message"], report["two_down"]
    assert report["two_down"]["written"] == [], "a post refused with two nodes down left rows behind"
    assert check["ok"], check
    race = report["limits_race"]
    held = race.pop("holds")
    assert held["placed"] == RACE_HOLDS and None not in held["outcomes"] and held["verify_ok"], held
    assert held["contradicted"] == [], held
    # Never a limit refusal: a capture takes the hold's own money (a racing capture's hold on
    # it answers that capture's outcome).
    assert "LimitExceeded" not in held["answers"], held
    assert held["pending"] == {}, held  # every hold has its one outcome: nothing held any more
    assert_the_bound_allowed_exactly(race, held)


def assert_the_bound_allowed_exactly(race: dict[str, Any], held: dict[str, Any]) -> None:
    """The payer had 100 for the debits, then 20 more for the holds, of which only captured holds
    spent anything (a void or an expiry gives it back to debits re-posted afterwards). Nothing
    went below the bound, and no debit was refused that could have passed: one refused before
    the holds found less than 10 of the 100 left, so at least 10 debits had landed by then (some
    perhaps unconfirmed, accepted when re-posted); one refused when re-posted (every hold decided
    or expired by then, so available only fell afterwards) left less than 10 at the end."""
    accepted, refused = race["accepted"], race["refused_first"] + race["refused_reposted"]
    closing = Decimal(race["closing"])
    assert accepted + refused == 50, race
    assert closing == Decimal("120.00") - 10 * accepted - Decimal("2.00") * held["captured"], (race, held)
    assert closing >= 0, race
    if race["refused_first"]:
        assert accepted >= 10, race
    if race["refused_reposted"]:
        assert closing < 10, race


async def exercise(ring: Ring, engine: Engine, store: str, tmp_path: Path) -> dict[str, Any]:
    log, stop = BankLog(), asyncio.Event()
    workload = asyncio.create_task(run_workers(engine, log, stop))
    log.mark("all up")
    await asyncio.sleep(PHASE)
    log.mark("node 3 killed")
    await tool(ring, "kill", "3")
    await asyncio.sleep(2 * PHASE)
    log.mark("node 3 restarting")
    await tool(ring, "start", "3")
    log.mark("all up again")
    await asyncio.sleep(PHASE)
    log.mark("node 2 paused")
    await tool(ring, "pause", "2")
    await asyncio.sleep(2 * PHASE)
    log.mark("node 2 resumed")
    await tool(ring, "resume", "2")
    await asyncio.sleep(PHASE)
    log.mark("stopped")
    stop.set()
    await workload

    two_down = await two_nodes_down(ring, engine, store, tmp_path)

    await asyncio.gather(tool(ring, "start", "2"), tool(ring, "start", "3"))  # restarts, not joins: at once
    await wait_until_driver_sees(engine, 3)
    t0 = time.monotonic()
    await tool(ring, "repair", KEYSPACE)
    repair_s = time.monotonic() - t0
    before = await engine.verify(repair=False)
    repaired = await engine.repair()
    present_before = 0
    for posting in log.unknown:
        try:
            await engine.transaction(posting.transaction_id)
            present_before += 1
        except NotFound:
            pass
        await settle(engine, posting.document)
    for name in ("cli", "engine"):
        try:
            await engine.transaction(two_down[f"{name}_id"])
            two_down["written"].append(name)
        except NotFound:
            pass
    await engine.seal()
    check = await check_ledger(engine, log)
    race = await limits_race(ring, engine)
    phases = [name for name, _ in log.phases if name != "stopped"]
    figures = {name: log.figures(name) for name in phases}
    one_down = [figures[name] for name in ("node 3 killed", "node 2 paused")]
    return {
        "summary": {
            "one_node_down_longest_ack_gap_s": max(f["gap_s"] for f in one_down),
            "one_node_down_p99_post_s": max(f["p99_s"] for f in one_down),
            "target_gap_2s_met": max(f["gap_s"] for f in one_down) <= 2.0,
            "two_down_cli_s": two_down["cli_s"],
            "two_down_engine_s": two_down["engine_s"],
        },
        "driver": {
            "speculate_after_s": session.SPECULATE_AFTER_S,
            "speculative_executions": session.SPECULATIVE_EXECUTIONS,
            "heartbeat_s": [session.HEARTBEAT_INTERVAL_S, session.HEARTBEAT_TIMEOUT_S],
        },
        "limits_race": race,
        "phase_seconds": PHASE,
        "postings": len(log.postings),
        "acked": len(log.acked),
        "unconfirmed_then_reposted": len(log.unknown),
        "failed_attempts": sum(len(p.errors) for p in log.postings),
        "error_kinds": sorted({e.split(":")[0] for p in log.postings for e in p.errors}),
        "figures": figures,
        "overall": log.figures(),
        "two_down": two_down,
        "repair_s": repair_s,
        "verify_before_repair": {"ok": before.ok, "problems": len(before.problems) + before.more_problems},
        "ledger_repair": str(repaired),
        "check": {
            "ok": check.ok,
            "acked_missing": [str(t) for t in check.acked_missing],
            "acked_wrong": [str(t) for t in check.acked_wrong],
            "duplicate_rows": check.duplicate_rows,
            "unexpected_sets": [str(t) for t in check.unexpected_sets],
            "currency_sums": {k: str(v) for k, v in check.currency_sums.items()},
            "fast_vs_fold": check.fast_vs_fold,
            "verify_problems": check.verify_problems[:10],
            "unconfirmed_present_before_repost": present_before,
        },
    }


RACE_PAYER = "test_uk/com.test.customer/current/GBP/payer"


async def limits_race(ring: Ring, engine: Engine) -> dict[str, Any]:
    """50 concurrent debits of 10 against an account funded with 100 and bounded at 0, with
    node 3 killed as they start; every one left unconfirmed is re-posted with its id once the
    node is back, until it is decided. The bank's ledger, on accounts the bank never touched
    (a keyspace of its own would cost another schema agreement on the ring)."""
    await engine.post_json(transfer("100.00", 1727347200000, debit="bank", credit="payer"))
    await engine.limits().set(RACE_PAYER, "0", None, "race")
    documents = [
        transfer("10.00", 1727347200000, debit="payer", credit="shop", transaction_id=uuid.uuid4())
        for _ in range(50)
    ]
    kill = asyncio.create_task(tool(ring, "kill", "3"))
    results: list[Any] = list(
        await asyncio.gather(*(engine.post_json(d) for d in documents), return_exceptions=True)
    )
    await kill
    first = list(results)
    holds = await holds_race(engine)  # node 3 still down
    await asyncio.sleep(2 * PHASE)  # as in the phases above: the killed JVM lets go of its ports
    await tool(ring, "start", "3")
    await wait_until_driver_sees(engine, 3)
    for n, document in enumerate(documents):
        for _ in range(240):
            if not isinstance(results[n], BaseException) or isinstance(results[n], LimitExceeded):
                break
            try:
                results[n] = await engine.post_json(document)
            except LedgerError as error:
                results[n] = error
                if not isinstance(error, LimitExceeded):
                    await asyncio.sleep(0.5)
    held = await settle_holds(engine, holds)
    rows = await engine.balance(parse_address(RACE_PAYER))
    refused_first = sum(1 for r in first if isinstance(r, LimitExceeded))
    return {
        "holds": held,
        "accepted": sum(1 for r in results if not isinstance(r, BaseException)),
        "accepted_first": sum(1 for r in first if not isinstance(r, BaseException)),
        "refused_first": refused_first,
        "refused_reposted": sum(1 for r in results if isinstance(r, LimitExceeded)) - refused_first,
        "closing": str(rows[0].closing),
        "unconfirmed_then_reposted": sum(
            1 for r in first if isinstance(r, BaseException) and not isinstance(r, LimitExceeded)
        ),
        "errors": sorted({type(r).__name__ for r in results if isinstance(r, BaseException)}),
    }


#: Holds of 2.00 each on the bounded payer (funded with 20 more for them), how long each is held,
#: the actions that race for each hold's one outcome, and when its captures and voids are tried:
#: from 0.6 s before its expiry (the first hold) to 0.3 s after it (the last); a sweep just after.
RACE_HOLDS, HOLD_S = 10, 4
RACE_ACTIONS = ("capture", "void", "capture", "void", "sweep")
LEADS_S = [round(-0.6 + 0.1 * n, 1) for n in range(RACE_HOLDS)]


async def holds_race(engine: Engine) -> dict[str, Any]:
    """With a node down, holds on the bounded payer, then captures, voids and sweeps racing for
    each one while its expiry nears: what was placed and what each action answered."""
    funding = transfer("20.00", 1727347200000, debit="bank", credit="payer", transaction_id=uuid.uuid4())
    for _attempt in range(240):  # with a node just killed a write may be left unconfirmed: again
        try:
            await engine.post_json(funding)
            break
        except LedgerError:
            await asyncio.sleep(0.5)
    placed: list[tuple[uuid.UUID, datetime]] = []
    for _ in range(RACE_HOLDS):
        document = transfer("2.00", 1727347200000, debit="payer", credit="shop", transaction_id=uuid.uuid4())
        entry_set = parse_entry_set_json(document, engine.currencies)
        repaired = False
        for _attempt in range(240):  # a placement left unconfirmed is placed again with its id
            try:
                hold = (await engine.holds().place(entry_set, timedelta(seconds=HOLD_S))).hold
                placed.append((hold.hold_id, hold.expires_at))
                break
            except LimitExceeded:
                # The funding's post at the head may have failed with the node going down (its
                # reservation then waits for repair, as any write's does): repair, then once more.
                if repaired:
                    raise
                repaired = True
                with contextlib.suppress(LedgerError):
                    await engine.repair()
            except LedgerError:
                await asyncio.sleep(0.5)

    async def act(hold_id: uuid.UUID, expires_at: datetime, action: str, lead_s: float) -> str:
        at = expires_at + timedelta(seconds=lead_s if action != "sweep" else 0.05)
        await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))
        try:
            if action == "capture":
                return str((await engine.holds().capture(hold_id)).hold.outcome)
            if action == "void":
                return str((await engine.holds().void(hold_id)).hold.outcome)
            await engine.holds().sweep()
            return "swept"
        except LedgerError as error:
            return type(error).__name__

    # Every hold's race at once (the node still down), each aimed at its own expiry.
    answers = await asyncio.gather(
        *(
            asyncio.gather(*(act(hold_id, expires_at, a, lead) for a in RACE_ACTIONS))
            for (hold_id, expires_at), lead in zip(placed, LEADS_S, strict=True)
        )
    )
    return {"placed": [hold_id for hold_id, _ in placed], "answers": answers}


async def settle_holds(engine: Engine, race: dict[str, Any]) -> dict[str, Any]:
    """Once the node is back: sweep until every hold has its outcome; each hold's outcome, and
    whether every action that won said so and every other was refused or answered the winner."""
    holds: list[Any] = []
    for _ in range(240):
        try:
            await engine.holds().sweep()
            holds = [await engine.holds().get(h) for h in race["placed"]]
        except LedgerError:  # the node just back: try again
            holds = []
        if holds and all(h.outcome is not None for h in holds):
            break
        await asyncio.sleep(0.5)
    outcomes = [h.outcome.value if h.outcome else None for h in holds]
    # An action that answered an outcome answered the one the hold has (never a second one).
    contradicted = [
        (str(h.hold_id), answer)
        for h, answers in zip(holds, race["answers"], strict=True)
        for answer in answers
        if answer in ("captured", "voided", "expired") and answer != (h.outcome.value if h.outcome else None)
    ]
    pending = await engine.holds().pending(parse_address(RACE_PAYER))
    report = await engine.verify()
    return {
        "placed": len(race["placed"]),
        "outcomes": outcomes,
        "captured": outcomes.count("captured"),
        "pending": {str(a): str(p.debits) for a, p in pending.items()},
        "answers": sorted({a for answers in race["answers"] for a in answers}),
        "contradicted": contradicted,
        "verify_ok": report.ok,
        "verify_problems": report.problems[:5],
    }


async def two_nodes_down(ring: Ring, engine: Engine, store: str, tmp_path: Path) -> dict[str, Any]:
    """Kill two nodes: a CLI post must exit 3 quickly and an engine post raise StoreUnavailable."""
    await tool(ring, "kill", "2")
    await tool(ring, "kill", "3")
    seen_s = await wait_until_driver_sees(engine, 1)
    cli_id, engine_id = uuid.uuid4(), uuid.uuid4()
    document = tmp_path / "two-down.json"
    document.write_text(transfer("12.34", int(time.time() * 1000), transaction_id=cli_id))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.monotonic()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ledger_tui", "--store", store, "post", str(document)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    cli_s = time.monotonic() - t0
    t0 = time.monotonic()
    error, message = "none", ""
    try:
        await engine.post_json(transfer("5.00", int(time.time() * 1000), transaction_id=engine_id))
    except LedgerError as caught:
        error, message = type(caught).__name__, str(caught)[:300]
    return {
        "driver_saw_down_s": seen_s,
        "cli_exit": done.returncode,
        "cli_s": cli_s,
        "cli_stderr": done.stderr.strip()[-300:],
        "engine_error": error,
        "engine_message": message,
        "engine_s": time.monotonic() - t0,
        "cli_id": cli_id,
        "engine_id": engine_id,
        "written": [],
    }
