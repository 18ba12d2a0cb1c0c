"""What is on a screen, as a table of text cells, written as CSV or JSON.

Cells are text (amounts as exact Decimal strings, never floats), so an export reproduces the
screen to the last digit; CSV cells that a spreadsheet would run as a formula are quoted with a
leading apostrophe, because exported descriptions come from whoever posted them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import FieldProblem, ValidationError

FORMATS = ("csv", "json")
_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportTable:
    """Named columns and rows of text cells, in the order shown on screen."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ValueError(f"row {number} has {len(row)} cells for {len(self.columns)} columns")

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> ExportTable:
        """Build a table, turning every cell into text (None becomes an empty cell)."""
        return cls(
            tuple(columns), tuple(tuple("" if cell is None else str(cell) for cell in row) for row in rows)
        )


def format_of(path: str) -> str:
    """The export format a path asks for by its extension (.csv or .json)."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix not in FORMATS:
        raise ValidationError(FieldProblem("path", f"end the file name with .csv or .json (got {path!r})"))
    return suffix


def _safe_cell(cell: str) -> str:
    if cell.startswith(_FORMULA_START) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def to_csv(table: ExportTable) -> str:
    """The table as CSV with a header row (RFC 4180 quoting, formula-looking text defused)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(tuple(_safe_cell(cell) for cell in row) for row in table.rows)
    return out.getvalue()


def to_json(table: ExportTable) -> str:
    """The table as a JSON array of objects keyed by column name."""
    return json.dumps([dict(zip(table.columns, row, strict=True)) for row in table.rows], indent=2) + "\n"


def render(table: ExportTable, fmt: str) -> str:
    """The table in the given format ("csv" or "json")."""
    if fmt == "csv":
        return to_csv(table)
    if fmt == "json":
        return to_json(table)
    raise ValidationError(FieldProblem("format", f"unknown export format {fmt!r} (csv or json)"))
