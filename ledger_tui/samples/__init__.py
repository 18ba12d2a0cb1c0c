"""Sample data shipped inside the package: the origin's entry set and the default named balances.

Read through ``importlib.resources`` so an installed wheel finds them wherever it lives;
the repo's ``sample_data/`` holds links to these same files (one source of truth).
"""

from __future__ import annotations

from importlib import resources

TRANSACTION = "transaction.json"
BALANCES = "balances.toml"


def sample_text(name: str) -> str:
    """The text of one bundled sample file."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
