"""dump and restore on the command line: commit order at any size, and hostile dumps refused by line."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tui.cli import dump_commands, main
from ledger_tui.cli.dump_commands import SortedRuns

from ..support.entry_sets import transfer

Cli = Callable[..., tuple[int, str]]


@settings(max_examples=30, deadline=None)
@given(keys=st.lists(st.integers(0, 10**6), max_size=60), run=st.integers(1, 7))
def test_the_external_sort_equals_a_plain_sort(keys: list[int], run: int) -> None:
    saved, dump_commands.SORT_RUN = dump_commands.SORT_RUN, run
    try:
        with ExitStack() as stack:
            runs = SortedRuns(stack)
            for number, key in enumerate(keys):
                runs.add(f"{key:015d} {number:06d}", f"line {key} {number}\n")
            merged = list(runs.merged())
    finally:
        dump_commands.SORT_RUN = saved
    expected = [f"line {key} {number}\n" for key, number in sorted((k, n) for n, k in enumerate(keys))]
    assert merged == expected


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    def run(store: str, *argv: str) -> tuple[int, str]:
        code = main(["--store", store, *argv])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


@pytest.fixture
def dumped(cli: Cli, tmp_path: Path) -> list[str]:
    """The lines of a dump of a small embedded ledger (header, 12 sets, footer)."""
    source = f"sqlite:{tmp_path / 'source.sqlite'}"
    for number in range(12):
        document = tmp_path / f"set{number}.json"
        document.write_text(transfer(f"{number + 1}.00", 1727347200000 + number))
        assert cli(source, "post", str(document))[0] == 0
    path = tmp_path / "books.jsonl"
    code, out = cli(source, "dump", str(path))
    assert code == 0, out
    code, out = cli(source, "dump", str(path))  # a dump never overwrites a file
    assert code == 2 and "exists" in out
    return path.read_text().splitlines(keepends=True)


def _restore(cli: Cli, tmp_path: Path, lines: list[str], name: str = "target") -> tuple[int, str]:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes("".join(lines).encode("utf-8", "surrogateescape"))
    return cli(f"sqlite:{tmp_path / (name + '.sqlite')}", "restore", str(path))


def test_a_dump_restores_whole_and_says_so(cli: Cli, tmp_path: Path, dumped: list[str]) -> None:
    assert len(dumped) == 14 and json.loads(dumped[-1])["sets"] == 12
    code, out = _restore(cli, tmp_path, dumped)
    assert code == 0 and "new 12," in out and "equal" in out, out


def test_a_line_changed_by_hand_stops_the_restore_naming_its_line(
    cli: Cli, tmp_path: Path, dumped: list[str]
) -> None:
    lines = list(dumped)
    data = json.loads(lines[5])
    data["entries"][0]["description"] = "changed"
    lines[5] = json.dumps(data) + "\n"
    code, out = _restore(cli, tmp_path, lines)
    assert code == 1 and "line 6" in out and "payload_hash" in out and "Traceback" not in out, out


@pytest.mark.parametrize(
    "damage",
    [
        "no footer",
        "a line after the footer",
        "a foreign first line",
        "not UTF-8",
        "an empty file",
        "a short digest",
    ],
)
def test_a_damaged_dump_is_refused_with_the_reason(
    cli: Cli, tmp_path: Path, dumped: list[str], damage: str
) -> None:
    lines = list(dumped)
    if damage == "no footer":
        lines = lines[:-1]
    elif damage == "a line after the footer":
        lines.append(lines[3])
    elif damage == "a foreign first line":
        lines[0] = '{"transaction_id": "x"}\n'
    elif damage == "not UTF-8":
        lines[4] = lines[4][:40] + "\udcff" + lines[4][40:]
    elif damage == "an empty file":
        lines = []
    else:
        lines[-1] = lines[-1].replace('"digest":"', '"digest":"ab')[:60] + '"}\n'
    code, out = _restore(cli, tmp_path, lines, name=damage.replace(" ", "-"))
    assert code == 1 and "Traceback" not in out, out
    assert out.strip(), "a refusal says why"


def test_a_dump_to_standard_output_restores_from_standard_input(
    cli: Cli, tmp_path: Path, dumped: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("".join(dumped).encode())))
    code, out = cli(f"sqlite:{tmp_path / 'piped.sqlite'}", "restore", "-")
    assert code == 0 and "equal" in out, out
