"""``export --format hledger|beancount``: the books as a plain-text accounting journal.

Why: accountants check and report books with tools nobody here wrote; a journal hledger or
Beancount reads lets an independent engine recompute every balance (the tests compare their
reports with ours).
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol, TextIO

from ..domain.beancount import BeancountBooks
from ..domain.beancount import header as beancount_header
from ..domain.journal import JOURNAL_HEADER, commodity_directives, journal_transaction
from ..domain.model import RecordedTransaction
from ..domain.money import Currencies
from ..domain.timeutil import to_epoch_ms
from ..engine import Engine
from .common import EXIT_OK, range_flags, with_engine
from .dump_commands import SortedRuns, open_output, progress


class _Journal(Protocol):
    """One journal format: what comes first, each set's text, what comes last."""

    label: str

    def header(self) -> str: ...
    def transaction(self, transaction: RecordedTransaction) -> str: ...
    def trailer(self) -> str: ...


class _Hledger:
    label = "hledger journal"

    def __init__(self, currencies: Currencies) -> None:
        self._currencies = currencies
        self._codes: set[str] = set()

    def header(self) -> str:
        return JOURNAL_HEADER

    def transaction(self, transaction: RecordedTransaction) -> str:
        self._codes.update(leg.address.currency for leg in transaction.legs)
        return journal_transaction(transaction, self._currencies)

    def trailer(self) -> str:
        return commodity_directives(self._codes, self._currencies)


class _Beancount:
    label = "Beancount ledger"

    def __init__(self, currencies: Currencies) -> None:
        self._books = BeancountBooks(currencies)

    def header(self) -> str:
        return beancount_header("ledger-tui books")

    def transaction(self, transaction: RecordedTransaction) -> str:
        return self._books.transactions(transaction)

    def trailer(self) -> str:
        return self._books.directives()


_FORMATS: dict[str, type[_Hledger] | type[_Beancount]] = {"hledger": _Hledger, "beancount": _Beancount}


async def _export(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    span = range_flags(args)
    to_stdout = args.file == "-"
    report = sys.stderr if to_stdout else out
    journal: _Journal = _FORMATS[args.format](engine.currencies)
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
                    sets, entries = sets + 1, entries + len(legs)
                    text = journal.transaction(transaction)
                    key = f"{to_epoch_ms(transaction.recorded_at):015d} {transaction.transaction_id}"
                    runs.add(key, text.replace("\n", "\x00") + "\n")  # one line per run entry
                update(sets, entries, time.perf_counter() - started)
        target = sys.stdout if to_stdout else stack.enter_context(open_output(args.file, "export"))
        target.write(journal.header())
        target.writelines(line.rstrip("\n").replace("\x00", "\n") for line in runs.merged())
        target.write(journal.trailer())
        target.flush()
    where = "standard output" if to_stdout else str(Path(args.file).resolve())
    report.write(f"export: sets {sets}  entries {entries}  {journal.label} to {where}\n")
    return EXIT_OK


export = with_engine(_export)


def add_journal_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``export`` on the command line."""
    exporter = commands.add_parser(
        "export",
        help="the books as a journal plain-text accounting tools read (hledger, Beancount)",
        description="Every entry set with a leg in [--start, --end), whole, in commit order. hledger: one "
        "transaction per set, its id as the code, each leg a posting (debits positive, credits negative, "
        "in the currency's precision) dated by its effective day (UTC); `hledger -f FILE balance` then "
        "reports our books. beancount: one transaction per set and effective day (UTC), linked by the "
        "set's id, balanced through Equity:Transit when the legs fall on several days; accounts "
        "Assets:<address parts, escaped>, opened with their currency at first use; `bean-check FILE` "
        "passes (docs/beancount-export.md has the mapping).",
    )
    exporter.add_argument(
        "--format", choices=sorted(_FORMATS), default="hledger", help="journal format (default hledger)"
    )
    exporter.add_argument("--start", help="sets with a leg effective from then (ISO 8601 or epoch ms)")
    exporter.add_argument("--end", help="... and before then (exclusive)")
    exporter.add_argument("file", nargs="?", default="-", help="a new file, or - (the default) for stdout")
    exporter.set_defaults(handler=export)
