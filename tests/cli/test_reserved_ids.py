"""Sets an older version recorded under an id of the UUID variant now reserved for outcomes are
still the books: a dump of them restores, and they can be shown."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.domain.parse import build_entry_set, parse_entry_set_json
from ledger_tui.ledger import LedgerOptions, open_ledger

from ..support.entry_sets import transfer

OLD_ID = uuid.UUID("6f9619ff-8b86-4011-e5a4-8f5ac6f1c3d2")  # variant bits 111


async def _recorded_by_an_older_version(url: str) -> None:
    """The set as an older version took it (its id went through no variant check)."""
    legs = list(parse_entry_set_json(transfer("5.00", 1727347200000)).legs)
    async with open_ledger(LedgerOptions(store=url)) as engine:
        await engine.record_batch([build_entry_set(OLD_ID, legs)])


@pytest.fixture
def old_ledger(sqlite_ledger: str) -> str:
    assert OLD_ID.variant == uuid.RESERVED_FUTURE
    asyncio.run(_recorded_by_an_older_version(sqlite_ledger))
    return sqlite_ledger


def test_a_dump_of_a_ledger_an_older_version_wrote_restores(
    old_ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "books.jsonl"
    assert main(["--store", old_ledger, "dump", str(path)]) == 0
    capsys.readouterr()
    code = main(["--store", f"sqlite:{tmp_path / 'copy.sqlite'}", "restore", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, (code, out, err)


def test_a_set_an_older_version_recorded_can_still_be_shown(
    old_ledger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--store", old_ledger, "show", str(OLD_ID)])
    out, err = capsys.readouterr()
    assert code == 0 and str(OLD_ID) in out, (code, out, err)
