"""Where the project's bundled sample data lives (a clean clone or an editable install)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_TRANSACTION = SAMPLE_DATA / "transaction.json"
SAMPLE_BALANCES = SAMPLE_DATA / "balances.toml"
