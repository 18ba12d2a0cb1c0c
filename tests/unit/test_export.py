"""Exports reproduce the table exactly in CSV and JSON, and defuse formula-looking text."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from ledger_tui.domain.errors import ValidationError
from ledger_tui.domain.export import ExportTable, format_of, render


def test_csv_and_json_round_trip_cells_exactly() -> None:
    table = ExportTable.of(
        ("account", "amount", "note"), [("a.b", Decimal("-1234.50"), None), ("c", "7", 'say "hi", then')]
    )
    rows = list(csv.reader(io.StringIO(render(table, "csv"))))
    assert rows == [["account", "amount", "note"], ["a.b", "-1234.50", ""], ["c", "7", 'say "hi", then']]
    assert json.loads(render(table, "json")) == [
        {"account": "a.b", "amount": "-1234.50", "note": ""},
        {"account": "c", "amount": "7", "note": 'say "hi", then'},
    ]


def test_formula_text_is_defused_in_csv_but_numbers_are_not() -> None:
    table = ExportTable.of(("x",), [("=HYPERLINK(1)",), ("-12.5",), ("+cmd",), ("@SUM(A1)",)])
    cells = [row[0] for row in csv.reader(io.StringIO(render(table, "csv")))][1:]
    assert cells == ["'=HYPERLINK(1)", "-12.5", "'+cmd", "'@SUM(A1)"]


@pytest.mark.parametrize(("path", "fmt"), [("out.csv", "csv"), ("/tmp/x.JSON", "json")])
def test_format_follows_the_extension(path: str, fmt: str) -> None:
    assert format_of(path) == fmt


@pytest.mark.parametrize("path", ["out.txt", "out", "dir.csv/out"])
def test_other_extensions_are_refused_naming_the_path(path: str) -> None:
    with pytest.raises(ValidationError, match="path"):
        format_of(path)


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="row 1"):
        ExportTable.of(("a", "b"), [("1",)])
