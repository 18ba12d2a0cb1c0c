"""Fill a ledger at volume: generated sample ledgers and the bulk path of ``import`` and ``load-sample``."""

from .bulk import (
    DEFAULT_CHUNK,
    DEFAULT_CONCURRENCY,
    DEFAULT_MONTHS,
    DEFAULT_SEED,
    DEFAULT_SETS,
    DEMO_SETS,
    LoadStats,
    generated_sets,
    load,
    sample_entry_set,
)
from .processes import few_collections

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MONTHS",
    "DEFAULT_SEED",
    "DEFAULT_SETS",
    "DEMO_SETS",
    "LoadStats",
    "few_collections",
    "generated_sets",
    "load",
    "sample_entry_set",
]
