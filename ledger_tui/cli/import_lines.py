"""Reading an import's JSON Lines: numbered lines, one entry set per line, bad lines remembered.

Shared by the one-process import and the workers of a parallel one, so a line means the same
thing, and a bad one is reported the same way, in both; also how a parallel import gathers its
chunks' problems and sizes its chunks.
"""

from __future__ import annotations

import codecs
import io
import math
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO, cast

from ..domain.claims import RecordOutcome
from ..domain.document import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_TEXT
from ..domain.errors import LedgerError
from ..domain.model import EntrySet
from ..domain.parse import entry_set_from_data, loads_exact
from ..loader import DEFAULT_CHUNK
from .common import UsageError

#: Problems printed in full; the rest are counted.
SHOWN_PROBLEMS = 20


@dataclass(slots=True)
class LineProblems:
    """Bad or conflicting lines: the first few in full, then a count."""

    shown: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, line: int, reason: str) -> None:
        """Keep one problem (the first ``SHOWN_PROBLEMS`` verbatim)."""
        if len(self.shown) < SHOWN_PROBLEMS:
            self.shown.append(f"line {line}: {reason}")
        else:
            self.more += 1

    @classmethod
    def gathered(cls, problems: Iterable[tuple[int, str]], more: int) -> LineProblems:
        """Problems gathered out of line order (the chunks of a parallel import), kept in line
        order; ``more``: problems that were counted but not kept."""
        kept = cls()
        for line, reason in sorted(problems):
            kept.add(line, reason)
        kept.more += more
        return kept

    def __len__(self) -> int:
        return len(self.shown) + self.more


@dataclass(slots=True)
class Gathered:
    """Problems of one kind from every chunk (each chunk sends its first few and a count)."""

    kept: list[tuple[int, str]] = field(default_factory=list)
    more: int = 0

    def add(self, problems: list[tuple[int, str]], more: int) -> None:
        """One chunk's problems."""
        self.kept.extend(problems)
        self.more += more

    def in_line_order(self) -> LineProblems:
        """The first few by line number, and a count of the rest."""
        return LineProblems.gathered(self.kept, self.more)


class Aborted(Exception):
    """A bad line under ``--on-error abort``: the import stops before its chunk is written."""


class LineTooLong(LedgerError):
    """A line longer than one document may be: reading stops (the rest may never end: /dev/zero)."""


#: What a line that is not UTF-8 is reported as.
NOT_UTF8 = "not UTF-8 text"


class NotUtf8Line(LedgerError):
    """A line that is not UTF-8 text: reading stops there (a bad line, as an invalid set is)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}: {NOT_UTF8}")
        self.line = line


class UnreadableInput(LedgerError):
    """The input failed while being read (a failing disk, a network file): reading stops."""


def _line_end(raw: bytes) -> int:
    """How many bytes of a line are its end (LF or CR LF)."""
    return 2 if raw.endswith(b"\r\n") else 1 if raw.endswith(b"\n") else 0


def parse_line(text: str) -> EntrySet:
    """One JSON Lines entry set; a missing ``transaction_id`` is an error (reruns must be exact)."""
    data = loads_exact(text.rstrip("\r\n"))  # the line's end is not part of the document
    if not isinstance(data, dict):
        raise LedgerError("must be a JSON object (one entry set per line)")
    if data.get("transaction_id") is None:  # null too: it would take a fresh id on every run
        raise LedgerError("transaction_id: required for import (so that a rerun is exact)")
    return entry_set_from_data(data)


def conflict_reason(outcome: RecordOutcome) -> str:
    """Why a line was not recorded: its id is taken by a set with other legs, or a limit refused it."""
    if outcome.refused is not None:
        return str(outcome.refused)
    return f"transaction {outcome.transaction.transaction_id} already recorded with other legs"


def numbered_lines(
    source: TextIO, read_before: int = 0, on_not_utf8: Callable[[NotUtf8Line], None] | None = None
) -> Iterator[tuple[int, str]]:
    """The non-blank lines of ``source`` with their line numbers, counting ``read_before`` lines
    already read from it (a dump's header); a line that is not UTF-8 is handed to ``on_not_utf8``
    and reading goes on (without it, reading stops there)."""
    number = read_before
    while True:
        try:
            text = source.readline()
        except NotUtf8Line as error:
            number += 1
            if on_not_utf8 is None:
                raise
            on_not_utf8(error)
            continue
        if not text:
            return
        number += 1
        if text.strip():
            yield number, text


class Utf8Lines(io.TextIOBase):
    """A file read line by line as UTF-8 (a leading byte-order mark dropped), each line decoded on
    its own and bounded in bytes, so a bad byte or a failed read is reported at its own line (a
    text layer decodes ahead, and reports it at some earlier line) and a huge line is never held."""

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self._raw, self._name = raw, name
        #: Lines read so far.
        self.line = 0

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        self._raw.close()
        super().close()

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        """The next line (up to and with its newline), or "" at the end (``size`` is ignored:
        every line is bounded by the size of a document)."""
        try:
            raw = self._raw.readline(MAX_DOCUMENT_BYTES + 3)  # a document, CR LF, one byte more
        except OSError as error:
            raise UnreadableInput(
                f"cannot read {self._name} after line {self.line}: {error.strerror}"
            ) from None
        if not raw:
            return ""
        self.line += 1
        if len(raw) - _line_end(raw) > MAX_DOCUMENT_BYTES:
            raise LineTooLong(f"line {self.line}: longer than {MAX_DOCUMENT_TEXT}; the import stops here")
        if self.line == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotUtf8Line(self.line) from None

    def __next__(self) -> str:  # type: ignore[override]
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class LineReader:
    """Yields valid entry sets and remembers each one's line number (for the outcomes)."""

    def __init__(self, source: TextIO, skip_bad: bool, chunk: int) -> None:
        self._source = source
        self._skip_bad = skip_bad
        self._chunk = chunk
        self.problems = LineProblems()
        self.line_of: list[int] = []
        self.lines = 0

    def _not_utf8(self, error: NotUtf8Line) -> None:
        self.lines += 1
        self.problems.add(error.line, NOT_UTF8)
        if not self._skip_bad:
            raise Aborted from None

    def __iter__(self) -> Iterator[EntrySet]:
        pending: list[tuple[int, EntrySet]] = []
        for number, text in numbered_lines(self._source, on_not_utf8=self._not_utf8):
            self.lines += 1
            try:
                pending.append((number, parse_line(text)))
            except (LedgerError, ValueError) as error:
                self.problems.add(number, str(error))
                if not self._skip_bad:
                    raise Aborted from None
            if len(pending) >= self._chunk:  # a chunk is handed on only once all of it is valid
                yield from self._hand_on(pending)
                pending = []
        yield from self._hand_on(pending)

    def _hand_on(self, pending: list[tuple[int, EntrySet]]) -> Iterator[EntrySet]:
        for number, entry_set in pending:
            self.line_of.append(number)
            yield entry_set


def open_source(path: str) -> TextIO:
    """The import's input: a UTF-8 file, or standard input for ``-`` (a leading byte-order mark is
    dropped, as ``post`` and ``ingest`` drop it)."""
    if path == "-":
        return cast(TextIO, Utf8Lines(sys.stdin.buffer, "standard input"))
    try:
        return cast(TextIO, Utf8Lines(open(path, "rb"), path))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


#: Chunk sizes when --chunk is not given: enough chunks for each worker to hold two, within these
#: bounds (smaller chunks repeat index rows and late marks; bigger ones leave a worker nothing to
#: parse while it waits on the node); the first lines estimate the file's.
MIN_CHUNK, MAX_CHUNK = 5000, DEFAULT_CHUNK
SAMPLE_LINES = 200


#: Bytes of text a chunk holds at most (however few lines: a line may be 16 MiB), so the chunks
#: read ahead for the workers stay a bounded amount of memory.
MAX_CHUNK_BYTES = 64 * 1024 * 1024


def chunk_size(size: int | None, sample: list[tuple[int, str]], workers: int, held: int = 2) -> int:
    """Sets per chunk for a file of ``size`` bytes (None: a pipe) whose first lines are ``sample``:
    ``held`` chunks for each of ``workers``, within the bounds, and lines as long as the sample's
    within MAX_CHUNK_BYTES (the reader also stops a chunk there)."""
    if not sample:
        return MIN_CHUNK
    per_line = max(1.0, sum(len(text.encode()) for _, text in sample) / len(sample))
    by_bytes = max(1, int(MAX_CHUNK_BYTES // per_line))
    if size is None:
        return min(MIN_CHUNK, by_bytes)
    lines = size / per_line
    return min(by_bytes, max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(lines / (workers * held)))))


def chunk_of(lines: Iterator[tuple[int, str]], size: int) -> list[tuple[int, str]]:
    """The next ``size`` lines, fewer once they may hold MAX_CHUNK_BYTES (counted in characters,
    each up to 4 bytes of UTF-8: no line is encoded again to measure it)."""
    chunk: list[tuple[int, str]] = []
    held = 0
    for item in lines:
        chunk.append(item)
        held += len(item[1])
        if len(chunk) >= size or held >= MAX_CHUNK_BYTES // 4:
            break
    return chunk


def file_bytes(source: TextIO) -> int | None:
    """The size of a regular file (None for a pipe or a terminal)."""
    try:
        status = os.fstat(source.fileno())
    except (OSError, ValueError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None
