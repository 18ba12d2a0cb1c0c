"""What ``import`` makes of input that is hard to read: the line a bad byte is on, a read that
fails midway, chunks of huge lines, and a number of workers no machine has."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.cli.import_lines import MAX_CHUNK_BYTES, Utf8Lines, chunk_of, chunk_size, numbered_lines

from ..support.entry_sets import transfer


def _lines(count: int) -> list[bytes]:
    return [transfer("1.00", 1727347200000, transaction_id=uuid.uuid4()).encode() for _ in range(count)]


@pytest.mark.parametrize("check", [False, True], ids=["import", "check"])
def test_the_line_a_bad_byte_is_on_is_the_line_named(
    sqlite_ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], check: bool
) -> None:
    """A text layer decodes 8 KiB ahead, so the error came while an earlier line was read (and
    blank lines were not counted)."""
    lines = _lines(200)
    lines[149] = lines[149].replace(b"transfer", b"transf\xffr")
    source = tmp_path / "latin.jsonl"
    source.write_bytes(b"\n\n".join(lines) + b"\n")  # blank lines between: line 150 is line 299
    code = main(["--store", sqlite_ledger, "import", *(["--check"] if check else []), str(source)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "line 299: not UTF-8 text" in out, out


def test_a_read_that_fails_midway_is_a_clear_error(tmp_path: Path) -> None:
    class Failing(io.BytesIO):
        def readline(self, size: int | None = -1, /) -> bytes:
            if self.tell() > 0:
                raise OSError(5, "Input/output error")
            return super().readline(size)

    source = Utf8Lines(Failing(b"".join(line + b"\n" for line in _lines(3))), "sets.jsonl")
    with pytest.raises(Exception) as failed:
        list(numbered_lines(source))  # type: ignore[arg-type]
    assert str(failed.value) == "cannot read sets.jsonl after line 1: Input/output error"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="Linux /proc")
def test_import_of_a_file_whose_read_fails_ends_as_an_error_not_a_crash(
    sqlite_ledger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--store", sqlite_ledger, "import", "/proc/self/mem"])  # opens, then EIO on read
    _, err = capsys.readouterr()
    assert code not in (0, 70) and "unexpected error" not in err, (code, err)
    assert "cannot read /proc/self/mem" in err, err


def test_a_leading_byte_order_mark_and_only_that_is_dropped() -> None:
    source = Utf8Lines(io.BytesIO(b"\xef\xbb\xbf{}\n\xef\xbb\xbf{}\n"), "x")
    assert list(numbered_lines(source)) == [(1, "{}\n"), (2, "\ufeff{}\n")]  # type: ignore[arg-type]


def test_a_chunk_of_huge_lines_is_bounded_in_bytes() -> None:
    line = " " * (16 * 1024 * 1024 - 100) + "{}\n"
    sample = [(1, line)] * 3
    for size in (None, 10**12):
        lines = chunk_size(size, sample, workers=4, held=2)
        assert lines >= 1 and lines * len(line) <= MAX_CHUNK_BYTES + len(line)
    small = [(n, "x" * 100) for n in range(1, 10_001)]
    assert chunk_size(None, small[:200], workers=4) == 5000  # ordinary lines: as before
    huge = iter([(n, "x" * (MAX_CHUNK_BYTES // 12 + 1)) for n in range(1, 10)])  # 4 bytes a character
    assert [len(chunk_of(huge, 5000)) for _ in range(4)] == [3, 3, 3, 0]
    ordinary = iter(small)
    assert [len(chunk_of(ordinary, 4000)) for _ in range(4)] == [4000, 4000, 2000, 0]


@pytest.mark.parametrize("command", ["import", "ingest"])
def test_a_number_of_workers_no_machine_has_is_refused(
    sqlite_ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    target = str(tmp_path / "none.jsonl") if command == "import" else "kafka://127.0.0.1:1/sets?group=g"
    code = main(["--store", sqlite_ledger, command, "--workers", "100000", target])
    _, err = capsys.readouterr()
    assert code == 2 and "--workers must be from 1 to 64" in err, (code, err)
