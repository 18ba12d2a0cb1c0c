"""``changes`` and ``publish``: the ledger's change feed printed as JSON Lines, or relayed to Kafka or
a webhook with its cursor kept in the ledger.

Why ``changes`` reads fresh events too: an operator asking what was committed expects the last
seconds as well; the cursor it ends with is a resume point that may repeat some, never skip one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TextIO

from ..domain.changes import Change, FeedLag
from ..domain.model import totals_by_currency
from ..engine import Engine
from ..engine.changes import FollowOptions, check_name
from .common import EXIT_OK, UsageError, on_stop_signals, whole_number, with_engine

MAX_LIMIT = 5000


def _line(change: Change) -> str:
    """One event as an operator reads it."""
    transaction = change.transaction
    moved = "  ".join(f"{t.currency} {t.debits}" for t in totals_by_currency(transaction.legs))
    reverses = f"  reverses {change.reverses}" if change.reverses else ""
    return (
        f"{transaction.recorded_at.isoformat(timespec='milliseconds')}  {change.kind.value:<18}  "
        f"{transaction.transaction_id}  {len(transaction.legs)} legs  {moved}{reverses}"
    )


async def _changes(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}")
    feed = engine.changes()
    cursor = await feed.start(args.since)
    stopping = asyncio.Event()
    options = FollowOptions(limit=args.limit, stop_when_idle=not args.follow)
    with on_stop_signals(stopping.set):
        async for page in feed.follow(cursor, options):
            for change in page.changes:
                out.write(
                    (json.dumps(change.to_json(), ensure_ascii=False) if args.json else _line(change)) + "\n"
                )
            out.flush()
            cursor = page.cursor
            if stopping.is_set():
                break
    sys.stderr.write(f"changes: resume with --since {cursor}\n" if cursor else "changes: none yet\n")
    return EXIT_OK


def _default_name(target: str) -> str:
    """A publisher's name from its target: one cursor per topic or endpoint unless told otherwise."""
    body = re.sub(r"^[a-z]+://", "", target).split("?")[0]
    kind = "kafka" if target.startswith("kafka://") else "webhook"
    return f"{kind}.{re.sub(r'[^A-Za-z0-9._-]+', '_', body)}"[:64].rstrip("._-")


def _lag_text(lag: FeedLag) -> str:
    parts = []
    if lag.events is not None:
        parts.append(f"{lag.events:,} behind")
    if lag.waiting:
        parts.append(f"waiting for {lag.waiting} unfinished write(s) (run repair if they stay)")
    return ", ".join(parts) or "caught up"


async def _publish(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    from ..publish.relay import Relay, RelayProgress, Sink  # aiokafka/aiohttp only for this command

    sink: Sink
    if args.target.startswith("kafka://"):
        from ..publish.kafka import KafkaSink, parse_kafka_target

        sink = KafkaSink(parse_kafka_target(args.target))
    elif args.target.startswith(("https://", "http://")):
        from ..publish.webhook import WebhookSink, read_secret, webhook_url

        sink = WebhookSink(webhook_url(args.target), read_secret(os.environ, args.secret_file))
    else:
        raise UsageError("TARGET must be kafka://HOST[:PORT]/TOPIC or https://HOST/PATH")
    name = check_name(args.name or _default_name(args.target))
    report = sys.stderr
    shown = [0.0]

    def on_progress(progress: RelayProgress) -> None:
        if report.isatty() and time.monotonic() - shown[0] >= 1:
            shown[0] = time.monotonic()
            rate = f"events {progress.events:,} ({progress.rate:,.0f}/s)"
            report.write(f"\rpublish {name}: {rate}  {_lag_text(progress.lag)}   ")
            report.flush()

    relay = Relay(engine, sink, name, since=args.since, on_progress=on_progress)
    report.write(f"publish {name}: to {sink.describe()}\n")
    with on_stop_signals(relay.stop):
        try:
            progress = await relay.run(stop_when_idle=args.stop_when_idle)
        finally:
            if report.isatty():
                report.write("\n")
    seconds = time.monotonic() - progress.started
    out.write(
        f"publish {name}: events {progress.events} in {seconds:.1f} s ({progress.rate:,.0f}/s)  "
        f"{_lag_text(progress.lag)}  cursor {progress.cursor}\n"
    )
    return EXIT_OK


def add_changes_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``changes`` and ``publish``."""
    changes = commands.add_parser(
        "changes",
        help="print committed entry sets as events (JSON Lines with --json), in commit order",
        description="Every committed entry set (and reversal) as an event with a stable event_id, "
        "its whole set and a cursor. Resuming --since an event's cursor never skips a later event "
        "(it may repeat some near it: drop repeats by event_id). See docs/events.md.",
    )
    since_help = "where to start: beginning (default), now, or a cursor from an earlier event"
    changes.add_argument("--since", default=None, metavar="CURSOR", help=since_help)
    changes.add_argument("--follow", action="store_true", help="keep printing new events until Ctrl-C")
    changes.add_argument("--json", action="store_true", help="the event JSON, one per line")
    changes.add_argument("--limit", type=whole_number, default=1000, help="events per read (default 1000)")
    changes.set_defaults(handler=with_engine(_changes))

    publish = commands.add_parser(
        "publish",
        help="relay committed entry sets to Kafka or a webhook, resuming where it stopped",
        description="Follows the change feed and sends each event to kafka://HOST[:PORT]/TOPIC "
        "(idempotent producer, acks=all, key = transaction id) or POSTs it to https://... (signed "
        "with HMAC-SHA256: docs/webhooks.md). The cursor is kept in the ledger under --name and moved "
        "only after delivery: a restart resumes there, repeating events near it, never skipping one.",
    )
    publish.add_argument("target", metavar="TARGET", help="kafka://HOST[:PORT]/TOPIC or https://HOST/PATH")
    publish.add_argument("--name", help="the publisher's name (its cursor's key); default from TARGET")
    publish.add_argument("--since", default=None, metavar="CURSOR", help="first run only: " + since_help)
    publish.add_argument("--stop-when-idle", action="store_true", help="exit 0 once caught up")
    publish.add_argument(
        "--secret-file", type=Path, help="webhook signing secret (else $LEDGER_WEBHOOK_SECRET)"
    )
    publish.set_defaults(handler=with_engine(_publish))
