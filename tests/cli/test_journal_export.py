"""``export --format hledger``: real hledger reads the journal and reports exactly our trial balance.

The ledger mixes currencies of 0, 2 and 3 digits, sets whose legs fall on different days,
back-dated sets, a reversal, and address parts hledger would otherwise misread (':', ';',
'%', brackets). hledger's balance report (debits - credits per account and commodity)
must equal our trial balance, whole and over a range cut at day boundaries.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.journal import account_name
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.loader import generated_sets

from ..support.entry_sets import entry_set, leg
from ..support.stores import IN_CI
from ..support.trial_movements import trial_movements

DAY = 86_400_000
SEP_1 = 1725148800000  # 2024-09-01T00:00Z


def _hledger() -> str:
    found = shutil.which("hledger")
    if found is None:
        message = "hledger is not installed (make test installs Debian's: tools/hledger/install)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _odd_sets() -> list[str]:
    odd = {"entity": "odd:le", "namespace": "semi;colon", "name": "per%cent", "account": "(paren)[x]"}
    return [
        entry_set(leg("debit", "1200", currency="JPY", timestamp=SEP_1, description="paid date:2020-01-01"),
                  leg("credit", "1200", currency="JPY", account="acc-2", timestamp=SEP_1 + 3 * DAY)),
        entry_set(leg("debit", "1.005", currency="KWD", timestamp=SEP_1 + DAY, **odd),
                  leg("credit", "1.005", currency="KWD", timestamp=SEP_1 + 40 * DAY)),
        entry_set(leg("debit", "10.50", timestamp=SEP_1 - 400 * DAY, description="back; dated"),
                  leg("credit", "10.50", account="acc-3", timestamp=SEP_1 + 2 * DAY)),
    ]  # fmt: skip


def _ledger(tmp_path: Path) -> str:
    url = f"sqlite:{tmp_path / 'books.sqlite'}"
    assert main(["--store", url, "load-sample", "--transactions", "400", "--months", "6", "--until",
                 "2024-12-01"]) == 0  # fmt: skip
    for number, text in enumerate(_odd_sets()):
        source = tmp_path / f"set{number}.json"
        source.write_text(text)
        assert main(["--store", url, "post", str(source)]) == 0
    first = next(iter(generated_sets(1, 6, datetime(2024, 12, 1, tzinfo=UTC), seed=7)))
    assert main(["--store", url, "reverse", str(first.transaction_id)]) == 0
    return url


def _hledger_balances(hledger: str, journal: Path, *dates: str) -> dict[tuple[str, str], Decimal]:
    command = [hledger, "-f", str(journal), "balance", "--flat", "--no-total", "-O", "csv", *dates]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"}
    )
    assert done.returncode == 0, done.stderr
    found: dict[tuple[str, str], Decimal] = {}
    for row in list(csv.reader(io.StringIO(done.stdout)))[1:]:
        for amount in row[1].split(", "):
            number, code = amount.rsplit(" ", 1)
            if Decimal(number):
                found[(row[0], code)] = Decimal(number)
    return found


def _ours(url: str, span: TimeRange) -> dict[tuple[str, str], Decimal]:
    return trial_movements(url, span, account_name)


def test_hledger_reports_exactly_our_trial_balance(tmp_path: Path) -> None:
    hledger = _hledger()
    url = _ledger(tmp_path)
    journal = tmp_path / "books.journal"
    assert main(["--store", url, "export", "--format", "hledger", str(journal)]) == 0
    assert _hledger_balances(hledger, journal) == _ours(url, TimeRange())
    start, end = datetime(2024, 9, 2, tzinfo=UTC), datetime(2024, 10, 5, tzinfo=UTC)
    ranged = _hledger_balances(hledger, journal, "-b", "2024-09-02", "-e", "2024-10-05")
    assert ranged == _ours(url, TimeRange(start, end)) and ranged
    text = journal.read_text()
    assert "odd%3Ale:semi%3Bcolon:per%25cent:KWD:%28paren%29%5Bx%5D  1.005 KWD" in text
    assert "1200 JPY" in text and "date:2024-09-04" in text  # a leg on another day keeps its own


def test_an_export_over_a_range_keeps_whole_sets_and_refuses_an_existing_file(tmp_path: Path) -> None:
    hledger = _hledger()
    url = _ledger(tmp_path)
    journal = tmp_path / "september.journal"
    assert main(["--store", url, "export", "--start", "2024-09-01", "--end", "2024-10-01", str(journal)]) == 0
    codes = [line.split()[1] for line in journal.read_text().splitlines() if line[:1].isdigit()]
    assert codes and all(uuid.UUID(code.strip("()")) for code in codes)
    ranged = _hledger_balances(hledger, journal, "-b", "2024-09-01", "-e", "2024-10-01")
    assert ranged == _ours(
        url, TimeRange(datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC))
    )
    assert main(["--store", url, "export", str(journal)]) == 2  # never over an existing file
