"""What ``import`` makes of lines at the size limit and of line ends: a set of up to 16 MiB is
read whatever ends its line, a chunk is bounded in bytes, and a line that is not UTF-8 is a bad
line that ``--on-error skip`` and ``--check`` go past."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from ledger_tui.cli import main
from ledger_tui.cli.import_lines import MAX_CHUNK_BYTES, Utf8Lines, chunk_of, numbered_lines, parse_line
from ledger_tui.domain.document import MAX_DOCUMENT_BYTES

from ..support.entry_sets import transfer


def _document(size: int) -> bytes:
    """A valid set of exactly ``size`` bytes (JSON whitespace pads it)."""
    text = transfer("1.00", 1727347200000, transaction_id=uuid.uuid4()).encode()
    return text[:-1] + b" " * (size - len(text)) + b"}"


@pytest.mark.parametrize(
    ("size", "end"),
    [(MAX_DOCUMENT_BYTES, b"\n"), (MAX_DOCUMENT_BYTES - 1, b"\r\n")],
    ids=["16MiB+LF", "16MiB-1+CRLF"],
)
def test_a_set_within_the_document_limit_is_read_whatever_its_line_end(size: int, end: bytes) -> None:
    document = _document(size)
    assert len(document) <= MAX_DOCUMENT_BYTES
    source = Utf8Lines(io.BytesIO(document + end + _document(200) + end), "sets.jsonl")
    lines = list(numbered_lines(source))  # type: ignore[arg-type]
    assert [number for number, _ in lines] == [1, 2]
    parse_line(lines[0][1])  # the set itself is within the limit


def test_the_same_set_is_taken_with_or_without_a_final_newline(
    sqlite_ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _document(MAX_DOCUMENT_BYTES)
    bare, ended = tmp_path / "bare.jsonl", tmp_path / "ended.jsonl"
    bare.write_bytes(document)
    ended.write_bytes(document + b"\n")
    assert main(["--store", sqlite_ledger, "import", str(bare)]) == 0  # taken: no newline after it
    capsys.readouterr()
    code = main(["--store", sqlite_ledger, "import", str(ended)])
    out, err = capsys.readouterr()
    assert code == 0, (code, out[-300:], err[-300:])  # now a duplicate of what was just imported


def test_a_chunk_holds_at_most_max_chunk_bytes_of_text_in_bytes() -> None:
    """``chunk_of`` counts characters, which undercounts UTF-8 bytes up to four times: a chunk of
    lines of 4-byte characters holds 4 x MAX_CHUNK_BYTES bytes (pickled to a worker as such)."""
    line = "\U0001f4b0" * (MAX_CHUNK_BYTES // 16) + "\n"  # 1/4 of the bound in bytes, 1/16 in characters
    chunk = chunk_of(iter([(n, line) for n in range(1, 101)]), 5000)
    held, most = sum(len(text.encode()) for _, text in chunk), MAX_CHUNK_BYTES + len(line.encode())
    assert held <= most, f"{len(chunk)} lines, {held} bytes"


@pytest.mark.parametrize("mode", ["--on-error=skip", "--check"])
def test_a_line_not_utf8_is_a_bad_line_that_skip_and_check_go_past(
    sqlite_ledger: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    """Each line is now decoded on its own, so nothing forces the reader to stop at one that is
    not UTF-8; yet ``--on-error skip`` ("a bad line is reported and skipped") imports nothing after
    it and ``--check`` ("validate every line") reports no bad line after it."""
    good = [transfer("1.00", 1727347200000, transaction_id=uuid.uuid4()).encode() for _ in range(2)]
    source = tmp_path / "sets.jsonl"
    source.write_bytes(good[0] + b"\n" + b'{"caf\xe9": 1}\n' + good[1] + b"\n" + b"{not json}\n")
    code = main(["--store", sqlite_ledger, "import", mode, str(source)])
    out, err = capsys.readouterr()
    assert "line 2: not UTF-8 text" in out, (out, err)
    assert "line 4" in out, (code, out, err)  # the bad line after it is reported too
    if mode == "--check":
        assert "lines 4  valid 2  bad 2" in out, out  # it says "lines 1  valid 0  bad 1"
