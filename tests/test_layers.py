"""The layer contracts hold on the real tree and would catch a Textual import in the domain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the repo's contracts over the ``ledger_tui`` found in ``package_parent``."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/money.py", "import textual", "The domain is pure"),
        ("domain/model.py", "import sqlite3", "The domain is pure"),
        ("store/base.py", "from textual.widget import Widget", "Stores know no console"),
        ("engine/core.py", "from ..store.sqlite import SqliteStore", "never names a concrete store"),
        ("app/widgets/formatting.py", "from ...store.base import Store", "The console imports only"),
        ("loader/bulk.py", "from ..cli import main", "Layers"),
        ("store/sqlite/store.py", "from ..cassandra import CassandraStore", "The two stores never import"),
        ("store/url.py", "from .sqlite import SqliteStore", "What both stores share"),
        ("app/chart/screen.py", "from ..browse.screen import BrowseScreen", "Console features never import"),
        ("app/widgets/range_bar.py", "from ..app import LedgerApp", "The console: shell over features"),
        ("web/server.py", "from ..engine import Engine", "The console in a browser only runs"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    shutil.copytree(
        REPO / "ledger_tui", tmp_path / "ledger_tui", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = tmp_path / "ledger_tui" / module
    target.write_text(target.read_text() + f"\n{line}  # injected by the test\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout[-2000:]
