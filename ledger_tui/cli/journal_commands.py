"""``export --format hledger``: the books as a plain-text accounting journal.

Why: accountants check and report books with tools nobody here wrote; a journal hledger reads
lets an independent engine recompute every balance (the tests compare its report with ours).
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from ..domain.journal import JOURNAL_HEADER, commodity_directives, journal_transaction
from ..domain.timeutil import to_epoch_ms
from ..engine import Engine
from .common import EXIT_OK, range_flags, with_engine
from .dump_commands import SortedRuns, open_output, progress


async def _export(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    span = range_flags(args)
    to_stdout = args.file == "-"
    report = sys.stderr if to_stdout else out
    codes: set[str] = set()
    sets = entries = 0
    started = time.perf_counter()
    with ExitStack() as stack:
        runs = SortedRuns(stack)
        with progress("exporting", report) as update:
            async for page in engine.books().sets():
                for transaction in page:
                    legs = transaction.entries()
                    if not any(span.contains(leg.effective_at) for leg in legs):
                        continue
                    codes.update(leg.address.currency for leg in legs)
                    sets, entries = sets + 1, entries + len(legs)
                    text = journal_transaction(transaction, engine.currencies)
                    key = f"{to_epoch_ms(transaction.recorded_at):015d} {transaction.transaction_id}"
                    runs.add(key, text.replace("\n", "\x00") + "\n")  # one line per run entry
                update(sets, entries, time.perf_counter() - started)
        target = sys.stdout if to_stdout else stack.enter_context(open_output(args.file, "export"))
        target.write(JOURNAL_HEADER)
        target.writelines(line.rstrip("\n").replace("\x00", "\n") for line in runs.merged())
        target.write(commodity_directives(codes, engine.currencies))
        target.flush()
    where = "standard output" if to_stdout else str(Path(args.file).resolve())
    report.write(f"export: sets {sets}  entries {entries}  hledger journal to {where}\n")
    return EXIT_OK


export = with_engine(_export)


def add_journal_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``export`` on the command line."""
    exporter = commands.add_parser(
        "export",
        help="the books as a journal plain-text accounting tools read (hledger)",
        description="Every entry set with a leg in [--start, --end) as one hledger transaction: its id "
        "as the code, each leg a posting (debits positive, credits negative, in the currency's "
        "precision) dated by its effective day (UTC). `hledger -f FILE balance` then reports our books.",
    )
    exporter.add_argument("--format", choices=["hledger"], default="hledger", help="journal format")
    exporter.add_argument("--start", help="sets with a leg effective from then (ISO 8601 or epoch ms)")
    exporter.add_argument("--end", help="... and before then (exclusive)")
    exporter.add_argument("file", nargs="?", default="-", help="a new file, or - (the default) for stdout")
    exporter.set_defaults(handler=export)
