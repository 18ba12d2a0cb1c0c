"""``export --format beancount``: bean-check passes and Beancount's balances are exactly our trial balance.

The ledger mixes currencies of 0, 2, 3 and 4 digits, sets whose legs fall on different days
(one in three currencies), back-dated sets, reversals (one of a set split over days), and
address parts and descriptions Beancount would otherwise misread (quotes, backslashes, colons,
unicode). Beancount itself (a subprocess of the interpreter it is installed in) computes the
balances, whole and over a range cut at day boundaries; a changed amount must fail bean-check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.beancount import TRANSIT, account, address_of
from ledger_tui.domain.model import Address
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.loader import generated_sets

from ..support.entry_sets import entry_set, leg
from ..support.stores import IN_CI
from ..support.trial_movements import trial_movements

DAY = 86_400_000
SEP_1 = 1725148800000  # 2024-09-01T00:00Z
SPLIT_ID = uuid.UUID("0b7f6c1e-5a4d-4c3b-9e2f-1a0b9c8d7e6f")
HOSTILE = 'say "hi" \\ back\\"slash; ^link #tag ✓  two  spaces'
ODD = {"entity": 'Xavier"s\\co', "namespace": "ns:with:colons", "name": "café✓-中", "account": "-lead%"}

#: Beancount's own balances: realize() over the transactions dated in [start, end), per account and
#: currency, plus each set's narration (the first piece's), as JSON.
_BALANCES = r"""
import datetime, json, sys
from beancount import loader
from beancount.core import data, realization
entries, errors, options = loader.load_file(sys.argv[1])
if errors:
    sys.exit("beancount errors: " + repr(errors[:3]))
start = datetime.date.fromisoformat(sys.argv[2]) if sys.argv[2] else datetime.date.min
end = datetime.date.fromisoformat(sys.argv[3]) if sys.argv[3] else datetime.date.max
dated = [e for e in entries if isinstance(e, data.Transaction) and start <= e.date < end]
balances = {}
for real in realization.iter_children(realization.realize(dated)):
    for position in real.balance:
        if position.units.number:
            balances[real.account + " " + position.units.currency] = str(position.units.number)
narrations = {e.meta["transaction_id"]: e.narration for e in dated}
print(json.dumps({"balances": balances, "narrations": narrations}))
"""


def _tools() -> tuple[str, str]:
    """bean-check and the interpreter Beancount is installed in (the one bean-check runs with)."""
    beside = Path(sys.executable).parent / "bean-check"
    found = str(beside) if beside.exists() else shutil.which("bean-check")
    if found is None:
        message = "bean-check is not installed (pip install beancount; make install does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    first = Path(found).read_bytes().split(b"\n", 1)[0]
    interpreter = first[2:].decode().strip() if first.startswith(b"#!") else sys.executable
    return found, interpreter


def _odd_sets() -> list[str]:
    return [
        entry_set(leg("debit", "1200", currency="JPY", timestamp=SEP_1, description=HOSTILE),
                  leg("credit", "1200", currency="JPY", account="acc-2", timestamp=SEP_1 + 3 * DAY)),
        entry_set(leg("debit", "1.005", currency="KWD", timestamp=SEP_1 + DAY, **ODD),
                  leg("credit", "1.005", currency="KWD", timestamp=SEP_1 + 40 * DAY, description="ünïcode")),
        entry_set(leg("debit", "10.50", timestamp=SEP_1 - 400 * DAY, description="back-dated"),
                  leg("credit", "10.50", account="acc-3", timestamp=SEP_1 + 2 * DAY)),
        entry_set(leg("debit", "5.00", timestamp=SEP_1 + 5 * DAY, description="three days, three currencies"),
                  leg("credit", "3.00", account="acc-3", timestamp=SEP_1 + 5 * DAY),
                  leg("credit", "2.00", account="acc-4", timestamp=SEP_1 + 6 * DAY),
                  leg("debit", "0.1234", currency="CLF", timestamp=SEP_1 + 6 * DAY),
                  leg("credit", "0.1234", currency="CLF", account="acc-2", timestamp=SEP_1 + 7 * DAY),
                  leg("debit", "7", currency="JPY", timestamp=SEP_1 + 7 * DAY, **ODD),
                  leg("credit", "7", currency="JPY", timestamp=SEP_1 + 5 * DAY),
                  transaction_id=SPLIT_ID),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One ledger for the module (loading the sample is the slow part)."""
    folder = tmp_path_factory.mktemp("beancount")
    url = f"sqlite:{folder / 'books.sqlite'}"
    assert main(["--store", url, "load-sample", "--transactions", "400", "--months", "6", "--until",
                 "2024-12-01"]) == 0  # fmt: skip
    for number, text in enumerate(_odd_sets()):
        source = folder / f"set{number}.json"
        source.write_text(text)
        assert main(["--store", url, "post", str(source)]) == 0
    first = next(iter(generated_sets(1, 6, datetime(2024, 12, 1, tzinfo=UTC), seed=7)))
    assert main(["--store", url, "reverse", str(first.transaction_id)]) == 0
    assert main(["--store", url, "reverse", str(SPLIT_ID)]) == 0
    return url


def _bean_check(bean_check: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bean_check, "--no-cache", str(path)], capture_output=True, text=True, timeout=300)


def _beancount(interpreter: str, path: Path, start: str = "", end: str = "") -> dict[str, dict[str, str]]:
    done = subprocess.run(
        [interpreter, "-c", _BALANCES, str(path), start, end], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, str]] = json.loads(done.stdout)
    return found


def _split(balances: dict[str, str]) -> tuple[dict[tuple[str, str], Decimal], dict[str, Decimal]]:
    """Beancount's balances as (address accounts by account and currency, transit by currency)."""
    accounts: dict[tuple[str, str], Decimal] = {}
    transit: dict[str, Decimal] = {}
    for key, number in balances.items():
        name, code = key.split(" ")
        if name == TRANSIT:
            transit[code] = Decimal(number)
        else:
            accounts[(name, code)] = Decimal(number)
    return accounts, transit


def _ours(url: str, span: TimeRange) -> dict[tuple[str, str], Decimal]:
    def named(address: Address) -> str:
        assert address_of(account(address)) == address  # the mapping is reversible
        return account(address)

    return trial_movements(url, span, named)


def _by_currency(ours: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (_, code), amount in ours.items():
        totals[code] += amount
    return {code: amount for code, amount in totals.items() if amount}


def test_bean_check_passes_and_beancount_balances_are_exactly_our_trial_balance(
    ledger: str, tmp_path: Path
) -> None:
    bean_check, interpreter = _tools()
    path = tmp_path / "books.beancount"
    assert main(["--store", ledger, "export", "--format", "beancount", str(path)]) == 0
    checked = _bean_check(bean_check, path)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")

    whole = _beancount(interpreter, path)
    accounts, transit = _split(whole["balances"])
    assert accounts == _ours(ledger, TimeRange()) and transit == {}
    assert {code for _, code in accounts} >= {"JPY", "KWD", "GBP"}  # CLF: reversed
    assert whole["narrations"][str(SPLIT_ID)] == "three days, three currencies"
    assert HOSTILE in whole["narrations"].values()  # quotes and backslashes read back as written

    # Over a range the split sets leave part of themselves in transit: exactly what our books
    # show unbalanced per currency over that range.
    ranged = _beancount(interpreter, path, "2024-09-02", "2024-10-05")
    accounts, transit = _split(ranged["balances"])
    ours = _ours(ledger, TimeRange(datetime(2024, 9, 2, tzinfo=UTC), datetime(2024, 10, 5, tzinfo=UTC)))
    assert accounts == ours and ours
    assert transit == {code: -amount for code, amount in _by_currency(ours).items()} and "KWD" in transit

    text = path.read_text(encoding="utf-8")
    odd = Address(ODD["entity"], ODD["namespace"], ODD["name"], "KWD", ODD["account"])
    assert f"  {account(odd)}  1.005 KWD\n" in text
    assert (
        "Assets:XXavier-22s-5Cco:Xns-3Awith-3Acolons:Xcaf-C3-A9-E2-9C-93-2D-E4-B8-AD:KWD:X-2Dlead-25" in text
    )
    assert "  1200 JPY\n" in text and "  0.1234 CLF\n" in text
    assert text.count(f'  transaction_id: "{SPLIT_ID}"\n') == 3  # one piece per effective day
    assert text.count(f" ^{SPLIT_ID}") == 3 + 1 and "  reverses: " in text  # the reversal links back


def test_bean_check_fails_on_an_unbalanced_or_unopened_export(ledger: str, tmp_path: Path) -> None:
    bean_check, _ = _tools()
    path = tmp_path / "books.beancount"
    assert main(["--store", ledger, "export", "--format", "beancount", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    changed = tmp_path / "changed.beancount"
    changed.write_text(text.replace("  1.005 KWD\n", "  1.004 KWD\n", 1), encoding="utf-8")
    checked = _bean_check(bean_check, changed)
    assert checked.returncode != 0 and "does not balance" in checked.stdout + checked.stderr
    unopened = tmp_path / "unopened.beancount"
    unopened.write_text("".join(line for line in text.splitlines(True) if " open " not in line))
    checked = _bean_check(bean_check, unopened)
    assert checked.returncode != 0 and "unknown account" in checked.stdout + checked.stderr
    odd = account(Address(ODD["entity"], ODD["namespace"], ODD["name"], "KWD", ODD["account"]))
    late = tmp_path / "late.beancount"  # opened after its first posting
    late.write_text(re.sub(rf"^\S+ open {re.escape(odd)} ", f"2030-01-01 open {odd} ", text, flags=re.M))
    checked = _bean_check(bean_check, late)
    assert checked.returncode != 0 and "inactive account" in checked.stdout + checked.stderr


def test_an_export_over_a_range_keeps_whole_sets_and_refuses_an_existing_file(
    ledger: str, tmp_path: Path
) -> None:
    bean_check, interpreter = _tools()
    path = tmp_path / "september.beancount"
    flags = ["--format", "beancount", "--start", "2024-09-01", "--end", "2024-10-01"]
    assert main(["--store", ledger, "export", *flags, str(path)]) == 0
    checked = _bean_check(bean_check, path)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    found = _beancount(interpreter, path, "2024-09-01", "2024-10-01")
    accounts, transit = _split(found["balances"])
    ours = _ours(ledger, TimeRange(datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC)))
    assert accounts == ours and transit == {code: -amount for code, amount in _by_currency(ours).items()}
    whole = _beancount(interpreter, path)  # whole sets: the KWD set's October leg is in the file too
    assert _split(whole["balances"])[1] == {}
    assert len(whole["narrations"]) < 400 and all(uuid.UUID(key) for key in whole["narrations"])
    assert main(["--store", ledger, "export", "--format", "beancount", str(path)]) == 2
