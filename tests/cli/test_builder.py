"""The one engine builder as the CLI uses it: version, bundled samples, named-balance files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ledger_tui
from ledger_tui.cli import main
from ledger_tui.ledger import LedgerOptions, build_engine
from ledger_tui.samples import BALANCES, TRANSACTION, sample_text

from ..support.entry_sets import transfer

REPO = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"ledger-tui {ledger_tui.__version__}"


@pytest.mark.parametrize("name", [TRANSACTION, BALANCES])
def test_the_repo_sample_data_is_the_packaged_copy(name: str) -> None:
    assert (REPO / "sample_data" / name).read_text(encoding="utf-8") == sample_text(name)


def test_named_balances_come_from_flag_then_environment_then_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        "customer-facing-balance"
        in build_engine(LedgerOptions(store=f"sqlite:{tmp_path / 'l'}")).named_balances
    )
    from_env = tmp_path / "env.toml"
    from_env.write_text('[from-env]\naddresses = ["a/b/c/GBP/*"]\n')
    from_flag = tmp_path / "flag.toml"
    from_flag.write_text('[from-flag]\naddresses = ["a/b/c/GBP/*"]\n')
    monkeypatch.setenv("LEDGER_BALANCES", str(from_env))
    assert set(build_engine(LedgerOptions(store=f"sqlite:{tmp_path / 'l'}")).named_balances) == {"from-env"}
    options = LedgerOptions(store=f"sqlite:{tmp_path / 'l'}", balances=from_flag)
    assert set(build_engine(options).named_balances) == {"from-flag"}


def test_a_broken_balances_file_fails_named_balances_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:{tmp_path / 'l.sqlite'}"
    broken = tmp_path / "balances.toml"
    broken.write_text("[x]\naddresses = 'not a list'\n")
    document = tmp_path / "tx.json"
    document.write_text(transfer("1.00", 1727347200000))
    code, out, _ = run(capsys, "--store", store, "--balances", str(broken), "post", str(document))
    assert code == 0 and json.loads(out)["status"] == "recorded"
    code, _, err = run(capsys, "--store", store, "--balances", str(broken), "balance", "--name", "x")
    assert code == 1 and "x.addresses: must be a list of address patterns" in err
    code, _, err = run(capsys, "--store", store, "balance", "--name", "nope")
    assert code == 1 and "no named balance 'nope' (known: customer-facing-balance" in err
