"""``ingest kafka://...``: entry sets from a Kafka topic into the ledger, exactly once in effect.

Why SIGTERM and Ctrl-C only ask the ingester to stop: the batch in hand is written and its
offsets committed first, so a stopped ingester leaves nothing for the next one to redo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import TextIO

from ..engine import Engine
from ..ingest.sets import SetWriter
from ..ingest.source import BATCH
from ..loader.processes import MAX_DEFAULT_WORKERS, MAX_WORKERS, can_fork, default_workers, few_collections
from ..store.url import CassandraUrl, parse_store_url
from .common import EXIT_OK, UsageError, ledger_options, on_stop_signals, whole_number, with_engine

#: Most messages one batch may hold.
MAX_BATCH = 20_000
#: Batches in hand in one process: one is written while the next is fetched and parsed.
DEPTH = 2


def ingest_entry_sets(args: argparse.Namespace, out: TextIO) -> int:
    """``ingest``: in worker processes (``--workers``; by default one per core, on Cassandra two
    fewer) where forking is safe, else in this one."""
    from ..ingest.source import parse_kafka_url

    parse_kafka_url(args.url)  # a bad URL or flag is refused before anything starts
    if not 1 <= args.batch <= MAX_BATCH:
        raise UsageError(f"--batch must be between 1 and {MAX_BATCH}")
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be from 1 to {MAX_WORKERS}")
    workers = (_default_workers(args) if args.workers is None else int(args.workers)) if can_fork() else 1
    if workers == 1:
        return with_engine(_one_process)(args, out)
    from ..ingest.pool import WorkerPool

    pool = WorkerPool(ledger_options(args), workers)
    pool.start()  # before any thread or driver starts here
    try:
        with few_collections():  # each batch in hand is thousands of objects
            return asyncio.run(_consume(args, pool, workers + 1, out))  # one more to fetch meanwhile
    finally:
        pool.close()


def _default_workers(args: argparse.Namespace) -> int:
    """One per core on the embedded store; on Cassandra two cores fewer (the coordinator and the
    driver's I/O keep one busy, and a node on the same machine needs one): on 2 cores, one
    process ingested faster than two (bench/RESULTS.md)."""
    if isinstance(parse_store_url(ledger_options(args).store), CassandraUrl):
        return max(1, min((os.cpu_count() or 1) - 2, MAX_DEFAULT_WORKERS))
    return default_workers()


async def _one_process(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    from ..ingest.sets import LocalWriter

    await engine.repair()  # sets a crashed writer left claimed but unwritten are completed first
    with few_collections():
        return await _consume(args, LocalWriter(engine), DEPTH, out)


async def _consume(args: argparse.Namespace, writer: SetWriter, depth: int, out: TextIO) -> int:
    from ..ingest.consumer import Ingester, IngestProgress  # aiokafka only for this command
    from ..ingest.source import parse_kafka_url

    source = parse_kafka_url(args.url)
    report = sys.stderr
    shown = [0.0]

    def on_progress(progress: IngestProgress) -> None:
        if report.isatty() and time.monotonic() - shown[0] >= 1:
            shown[0] = time.monotonic()
            lag = "?" if progress.lag is None else f"{progress.lag:,}"
            report.write(
                f"\ringest: sets {progress.sets:,} ({progress.rate:,.0f}/s)  repeats {progress.repeats:,}  "
                f"dead-lettered {progress.dead_lettered:,}  lag {lag}   "
            )
            report.flush()

    ingester = Ingester(writer, source, batch=args.batch, depth=depth, on_progress=on_progress)
    try:
        with on_stop_signals(ingester.stop):
            progress = await ingester.run(stop_when_idle=args.stop_when_idle)
    finally:
        if report.isatty():
            report.write("\n")
    seconds = time.monotonic() - progress.started
    first, last = progress.first_write, progress.last_write
    writing = f"  writing {last - first:.1f} s" if first is not None and last is not None else ""
    out.write(
        f"ingest: sets {progress.sets}  repeats {progress.repeats}  dead-lettered {progress.dead_lettered}  "
        f"in {seconds:.1f} s ({progress.rate:,.0f} sets/s){writing}  lag {progress.lag}\n"
    )
    return EXIT_OK


def add_ingest_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``ingest``."""
    ingest = commands.add_parser(
        "ingest",
        help="consume entry sets from Kafka (the origin's JSON) into the ledger",
        description="Reads kafka://HOST[:PORT][,HOST[:PORT]]/TOPIC?group=NAME[&dead_letter=TOPIC]"
        "[&session_timeout_ms=N] as a member of the consumer group, writes each batch through the "
        "bulk path and commits a "
        "partition's offsets only once every set before them is durable: a crash or a rebalance "
        "repeats work, never loses or duplicates a set. A message without transaction_id gets an id "
        "derived from its topic, partition and offset. A message that is not a valid balanced set "
        "goes to the dead-letter topic (headers ledger.error, ledger.topic, ledger.partition, "
        "ledger.offset); without one, ingestion stops at it (exit 1). session_timeout_ms (default "
        "10000): how long a member the broker stops hearing from (killed) keeps its partitions.",
    )
    ingest.add_argument(
        "url", help="kafka://HOST[:PORT]/TOPIC?group=NAME[&dead_letter=TOPIC][&session_timeout_ms=N]"
    )
    ingest.add_argument(
        "--stop-when-idle", action="store_true", help="exit 0 once every partition of ours is caught up"
    )
    ingest.add_argument(
        "--batch", type=whole_number, default=BATCH, help=f"most messages per write (default {BATCH})"
    )
    ingest.add_argument(
        "--workers",
        type=whole_number,
        default=None,
        help="processes that parse and write the batches, each batch whole in one of them (default: "
        f"one per core, on Cassandra two fewer, at most {MAX_DEFAULT_WORKERS}; 1: this process does it all)",
    )
    ingest.set_defaults(handler=ingest_entry_sets)
