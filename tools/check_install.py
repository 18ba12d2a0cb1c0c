#!/usr/bin/env python3
"""Build the wheel, install it into a fresh virtualenv and use it from outside the repo.

What a new user does after ``pip install``: every command must find its bundled data (the
sample entry set, the default named balances) without the repo. Run by ``make test``.
Standard library only; exits non-zero with the failing command's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(argv: list[str], *, cwd: Path, env: dict[str, str], expect: str | None = None) -> str:
    """Run one command; fail loudly (with its output) on a non-zero exit or a missing line."""
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - started
    shown = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
    if result.returncode != 0 or (expect is not None and expect not in result.stdout):
        print(f"[install] FAILED ({result.returncode}): {shown}")
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        if expect is not None:
            print(f"[install] expected in the output: {expect!r}")
        sys.exit(1)
    print(f"[install] ok {took:5.1f}s  {shown}")
    return result.stdout


def main() -> None:
    """Wheel -> fresh venv -> commands from a temporary directory with its own HOME."""
    with tempfile.TemporaryDirectory(prefix="ledger-tui-install-") as temp:
        root = Path(temp)
        home, work, dist = root / "home", root / "elsewhere", root / "dist"
        for folder in (home, work, dist):
            folder.mkdir()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        pip_env = {**env, "HOME": os.environ.get("HOME", str(home))}  # reuse the user's pip cache
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
            cwd=work, env=pip_env)  # fmt: skip
        (wheel,) = dist.glob("ledger_tui-*.whl")
        venv.create(root / "venv", with_pip=True)
        python = root / "venv" / "bin" / "python"
        run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=work, env=pip_env)
        tool = str(root / "venv" / "bin" / "ledger-tui")
        ask_version = [str(python), "-c", "import ledger_tui; print(ledger_tui.__version__)"]
        version = run(ask_version, cwd=work, env=env)
        run([tool, "--version"], cwd=work, env=env, expect=f"ledger-tui {version.strip()}")
        run([tool, "demo", "--no-console", "--transactions", "200"], cwd=work, env=env,
            expect="fintech_uk/com.fintech.account/main/GBP/*")  # fmt: skip
        run([tool, "load-sample", "--transactions", "300"], cwd=work, env=env,
            expect="loaded: transactions 301 (new 301")  # fmt: skip
        run([tool, "balance", "--name", "customer-facing-balance"], cwd=work, env=env, expect="GBP")
        run([tool, "verify"], cwd=work, env=env, expect="verify: OK")
        leaked = list(work.iterdir())
        if leaked:
            print(f"[install] FAILED: commands wrote into the working directory: {leaked}")
            sys.exit(1)
        print("[install] the installed package works outside the repo")


if __name__ == "__main__":
    main()
