"""The command line on both stores: receipts, balances, listings, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger_tui.cli import main

from ..support.entry_sets import entry_set, leg, transfer
from ..support.stores import SAMPLE_JSON


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run the CLI against a fresh ledger (schema applied first, as an operator would)."""
    assert run(capsys, "--store", ledger_url, "schema", "apply")[0] == 0

    def invoke(*argv: str) -> tuple[int, str, str]:
        return run(capsys, "--store", ledger_url, *argv)

    return invoke


def test_post_prints_receipt_then_duplicate(cli: Cli, tmp_path: Path) -> None:
    document = json.loads(SAMPLE_JSON)
    document["transaction_id"] = "0b7e6a86-3f0f-4a43-9d3c-5a1f2a8f7c11"
    path = tmp_path / "tx.json"
    path.write_text(json.dumps(document))
    code, out, _ = cli("post", str(path))
    receipt = json.loads(out)
    assert code == 0 and receipt["status"] == "recorded"
    assert receipt["transaction_id"] == document["transaction_id"]
    assert [e["amount"] for e in receipt["entries"]] == [
        "100.00",
        "100.00",
        "50.00",
        "50.00",
        "30.00",
        "30.00",
    ]
    code, out, _ = cli("post", str(path))
    assert code == 0 and json.loads(out)["status"] == "duplicate"
    assert json.loads(out)["recorded_at"] == receipt["recorded_at"]


def test_balance_entries_accounts_verify(cli: Cli, tmp_path: Path) -> None:
    sample = tmp_path / "transaction.json"
    sample.write_text(SAMPLE_JSON)
    assert cli("post", str(sample))[0] == 0
    main_account = "fintech_uk/com.fintech.account/main/GBP/*"
    code, out, _ = cli("balance", "--address", main_account, "--start", "2024-09-27", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"currency": "GBP", "opening": "-100.00", "debits": "50.00", "credits": "30.00", "closing": "-120.00"}
    ]
    code, out, _ = cli("balance", "--name", "main-account")
    assert code == 0 and out.splitlines()[1].split() == ["GBP", "0.00", "150.00", "30.00", "-120.00"]

    code, out, _ = cli("entries", "--address", main_account, "--format", "csv", "--end", "2024-09-29")
    lines = out.strip().splitlines()
    assert lines[0].startswith("effective_at,type,amount")
    assert [line.split(",")[1:3] for line in lines[1:]] == [["debit", "100.00"], ["debit", "50.00"]]
    code, out, _ = cli("entries", "--address", main_account, "--format", "json")
    assert [e["description"] for e in json.loads(out)] == [
        "Initial funding",
        "Client payment",
        "Paid utilities",
    ]

    code, out, _ = cli("accounts", "--json")
    assert len(json.loads(out)) == 4
    code, out, _ = cli("verify")
    assert code == 0 and "verify: OK" in out and "GBP: debits 180.00  credits 180.00  ok" in out


def test_rejected_input_exit_1_and_nothing_written(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(entry_set(leg("debit", "10.001"), leg("credit", 10, currency="EUR")))
    code, out, err = cli("post", str(path))
    assert code == 1 and out == ""
    assert "entries[0].amount: has more than 2 decimal places" in err
    assert "Traceback" not in err
    code, out, _ = cli("accounts")
    assert code == 0 and out == ""


def test_conflicting_resubmission_exit_1(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "tx.json"
    txid = "4c7d1f2e-9b9a-4f55-8a1e-2f6b3c4d5e6f"
    path.write_text(transfer(10, 1727347200000, transaction_id=txid))
    assert cli("post", str(path))[0] == 0
    path.write_text(transfer(11, 1727347200000, transaction_id=txid))
    code, _, err = cli("post", str(path))
    assert code == 1 and "conflicting resubmission" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    code, _, err = run(
        capsys, "--store", store, "balance", "--address", "a/b/c/GBP/d", "--start", "yesterday"
    )
    assert code == 2 and "--start" in err
    with pytest.raises(SystemExit) as exited:
        main(["balance"])
    assert exited.value.code == 2


def test_store_unavailable_exit_3_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--store", "cassandra://127.0.0.1:1/ledger?timeout=2", "accounts")
    assert code == 3 and "store unavailable" in err and "Traceback" not in err


def test_bad_store_url_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--store", "cassandra://127.0.0.1/Bad-Keyspace", "accounts")
    assert code == 1 and "store.keyspace" in err


def test_post_from_stdin_as_a_subprocess(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    result = subprocess.run(
        [sys.executable, "-m", "ledger_tui", "--store", store, "post", "-"],
        input=transfer("1.50", 1727347200000),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "recorded"


def test_entries_of_an_unknown_account_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "tx.json"
    path.write_text(SAMPLE_JSON)
    assert cli("post", str(path))[0] == 0
    known = json.loads(cli("accounts", "--json")[1])[0]
    address = "/".join(known[k] for k in ("legal_entity", "namespace", "name", "currency", "account_id"))
    code, out, err = cli("entries", "--address", address, "--start", "1990-01-01", "--end", "1990-02-01")
    assert code == 0 and out == ""  # a known account with nothing in the range is no error
    typo = address[:-1] + "#"
    code, out, err = cli("entries", "--address", typo)
    assert code == 1 and out == ""
    assert f"no account {typo} in this ledger" in err and "Traceback" not in err


def test_demo_removes_its_temp_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("LEDGER_STORE", raising=False)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    code, out, _ = run(capsys, "demo", "--no-console", "--transactions", "5", "--until", "2026-11-01")
    assert code == 0 and "demo ledger: sqlite:" in out
    ledger_file = Path(out.split("demo ledger: sqlite:")[1].split()[0])
    assert ledger_file.parent.parent == tmp_path
    assert not ledger_file.parent.exists() and list(tmp_path.iterdir()) == []


def test_limit_set_show_clear_and_a_refused_post_and_import(cli: Cli, tmp_path: Path) -> None:
    pattern = "test_uk/com.test.customer/current/GBP/acc-1"
    code, out, _ = cli("limit", "set", pattern, "--min", "0", "--by", "ops")
    assert code == 0 and "min 0.00 (by ops)" in out
    code, out, _ = cli("limit", "show", "--json")
    assert code == 0 and json.loads(out) == {"pattern": pattern, "min": "0.00", "max": None}
    spend = tmp_path / "spend.json"
    spend.write_text(transfer("5.00", 1727347200000), encoding="utf-8")
    code, out, err = cli("post", str(spend))
    assert code == 1 and out == "" and "limit exceeded" in err and "acc-1" in err and "Traceback" not in err
    lines = tmp_path / "sets.jsonl"
    lines.write_text(
        "\n".join(
            transfer(amount, 1727347200000, debit=payer, credit=payee, transaction_id=uuid.uuid4())
            for amount, payer, payee in [("5.00", "acc-2", "acc-1"), ("6.00", "acc-1", "acc-2")]
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = cli("import", str(lines))
    assert code == 1 and "line 2" in out and "below its minimum" in out
    code, out, _ = cli("limit", "clear", pattern, "--by", "ops")
    assert code == 0 and "cleared" in out
    code, out, _ = cli("limit", "show", "--history")
    assert code == 0 and out.count("ops") == 2 and "cleared" in out
    assert cli("post", str(spend))[0] == 0


def test_holds_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    txid = uuid.uuid4()
    held = tmp_path / "hold.json"
    held.write_text(transfer("40.00", 1727347200000, transaction_id=txid), encoding="utf-8")
    code, out, _ = cli("post", str(held), "--pending", "--expires-in", "15m")
    assert code == 0 and json.loads(out)["state"] == "pending" and json.loads(out)["repeated"] is False
    code, out, _ = cli("holds")
    assert code == 0 and str(txid) in out and "pending" in out and "acc-1 40.00" in out
    code, out, _ = cli("balance", "--address", "test_uk/com.test.customer/current/GBP/acc-1", "--json")
    assert code == 0 and json.loads(out) == [  # nothing posted yet: what is held shows all the same
        {"currency": "GBP", "opening": "0.00", "debits": "0.00", "credits": "0.00", "closing": "0.00",
         "pending_debits": "40.00", "pending_credits": "0.00", "available": "-40.00"}
    ]  # fmt: skip
    code, out, _ = cli("balance", "--address", "test_uk/com.test.customer/current/GBP/*")
    assert code == 0 and out.splitlines()[1].split() == ["GBP", *["0.00"] * 4, "40.00", "40.00", "-40.00"]
    partial = tmp_path / "partial.json"
    partial.write_text(transfer("15.00", 1727347200000), encoding="utf-8")
    code, out, _ = cli("capture", str(txid), str(partial))
    assert code == 0 and json.loads(out)["state"] == "captured"
    code, out, _ = cli("balance", "--address", "test_uk/com.test.customer/current/GBP/acc-1", "--json")
    assert json.loads(out)[0]["debits"] == "15.00" and "available" not in json.loads(out)[0]
    code, _, err = cli("void", str(txid))
    assert code == 1 and "it was captured at" in err
    second = tmp_path / "second.json"
    second.write_text(transfer("5.00", 1727347200000), encoding="utf-8")
    assert cli("post", str(second), "--pending")[0] == 0
    code, out, _ = cli("balance", "--address", "test_uk/com.test.customer/current/GBP/acc-1", "--json")
    row = json.loads(out)[0]
    assert (row["pending_debits"], row["pending_credits"], row["available"]) == ("5.00", "0.00", "-20.00")
    account = "test_uk/com.test.customer/current/GBP/acc-1"
    code, out, _ = cli("entries", "--address", account)  # the held leg apart from the posted ones
    posted, held_part = out.split("held, pending (not posted):\n")
    assert code == 0 and "15.00" in posted and "5.00" in held_part and "until " in held_part
    code, out, _ = cli("entries", "--address", account, "--format", "json")
    assert [(e.get("state"), e["amount"]) for e in json.loads(out)] == [(None, "15.00"), ("pending", "5.00")]
    code, out, _ = cli("accounts", "--json")
    by_account = {a["account_id"]: a for a in json.loads(out)}
    assert (by_account["acc-1"]["pending_debits"], by_account["acc-1"]["pending_credits"]) == ("5.00", "0.00")
    assert (by_account["acc-2"]["pending_debits"], by_account["acc-2"]["pending_credits"]) == ("0.00", "5.00")
    code, out, _ = cli("accounts")
    assert code == 0 and f"{account}  pending dr 5.00 cr 0.00" in out.splitlines()
    code, out, _ = cli("sweep")
    assert code == 0 and "0 expired" in out
    for bad in (["--expires-in", "0s"], ["--expires-in", "400d"], ["--expires-in", "soon"]):
        code, _, err = cli("post", str(second), "--pending", *bad)
        assert code == 1 and "expires-in" in err and "Traceback" not in err
    code, _, err = cli("post", str(second), "--expires-in", "5m")
    assert code == 2 and "go with --pending" in err
