"""Fuzz the ledger with hostile input on both stores: no traceback, the documented exit code,
nothing written when rejected (row counts and verify before/after, no claim left behind), and
what is accepted is read back verbatim.

Bounded: 300 examples per store under CI=true, fewer locally (LEDGER_FUZZ_EXAMPLES overrides).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tui.cli import main
from ledger_tui.cli.common import EXIT_OK, EXIT_REJECTED, EXIT_UNAVAILABLE, EXIT_USAGE
from ledger_tui.domain.document import loads_document
from ledger_tui.domain.errors import LedgerError, StoreUnavailable, ValidationError
from ledger_tui.domain.parse import entry_set_from_data
from ledger_tui.engine import Engine
from ledger_tui.ledger import open_store
from ledger_tui.store.url import parse_store_url

from ..support.stores import IN_CI, JANITOR, FixedClock
from .strategies import documents, read_arguments, store_urls

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "300" if IN_CI else "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=IN_CI,  # CI runs the same examples every time; locally each run explores more
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


class Ledger:
    """A connected engine on a fresh ledger, driven from synchronous hypothesis examples."""

    def __init__(self, url: str, runner: asyncio.Runner) -> None:
        from datetime import UTC, datetime

        self.url, self.runner = url, runner
        self.store = open_store(parse_store_url(url))
        self.engine = Engine(self.store, clock=FixedClock(datetime(2024, 11, 5, 9, 30, tzinfo=UTC)))
        runner.run(self.engine.connect())
        runner.run(self.engine.apply_schema())

    def counts(self) -> tuple[int, int, int]:
        report = self.runner.run(self.engine.verify())
        assert report.ok, report.problems
        return report.transactions, report.entries, report.accounts

    def close(self) -> None:
        self.runner.run(self.engine.close())
        if self.store.info.kind == "cassandra":
            JANITOR.drop(self.url)


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with asyncio.Runner() as runner:
        opened = Ledger(ledger_url, runner)
        try:
            yield opened
        finally:
            opened.close()


def _expected(document: bytes) -> object:
    """What the domain alone makes of ``document``: the EntrySet, or the ValidationError."""
    try:
        return entry_set_from_data(loads_document(document))
    except ValidationError as error:
        return error


def test_hostile_documents_are_rejected_whole_or_stored_verbatim(ledger: Ledger) -> None:
    """Every document through the engine (the path of CLI post, console and HTTP server)."""
    before = ledger.counts()
    accepted: list[int] = [0, 0]

    @FUZZ
    @given(document=documents())
    def check(document: bytes) -> None:
        expected = _expected(document)
        try:
            receipt = ledger.runner.run(ledger.engine.post_json(document))
        except ValidationError as error:
            assert isinstance(expected, ValidationError) and str(error) == str(expected)
            assert len(str(error)) < 20 * 600  # capped at 20 problems, each field value shown short
            return
        assert not isinstance(expected, ValidationError), "the store accepted what the domain rejects"
        stored = ledger.runner.run(ledger.engine.transaction(receipt.transaction_id))
        assert stored.legs == expected.legs  # type: ignore[attr-defined]  # verbatim: text, amounts, times
        if receipt.status.value == "recorded":
            accepted[0] += 1
            accepted[1] += len(stored.legs)

    check()
    after = ledger.counts()
    assert after[:2] == (before[0] + accepted[0], before[1] + accepted[1])  # rejected ones wrote nothing
    assert accepted[0] > 0  # the round trip was exercised, not only the rejections


def test_rejected_documents_leave_no_claim(ledger: Ledger) -> None:
    """The Cassandra finding: a rejected post with a client id must not claim that id."""

    @FUZZ
    @given(document=documents(), transaction_id=st.uuids())
    def check(document: bytes, transaction_id: object) -> None:
        try:
            text = document.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return  # not UTF-8: no id can even be read
        if not text.startswith('{"entries"'):
            return
        with_id = f'{{"transaction_id": "{transaction_id}", ' + text[1:]
        expected = _expected(with_id.encode("utf-8", "surrogatepass"))
        if not isinstance(expected, ValidationError):
            return  # a valid set: covered above
        with pytest.raises(ValidationError):
            ledger.runner.run(ledger.engine.post_json(with_id.encode("utf-8", "surrogatepass")))
        assert ledger.runner.run(ledger.store.get_transaction(transaction_id)) is None  # type: ignore[arg-type]

    before = ledger.counts()
    check()
    assert ledger.counts() == before


def _cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str]:
    """Run the CLI in-process; returns the exit code and what it wrote to stderr."""
    err, out = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, err.getvalue()


def _no_traceback(code: int, err: str, tmp_path: Path) -> None:
    assert "Traceback" not in err
    assert not (tmp_path / "xdg-state" / "ledger-tui" / "errors.log").exists(), err  # the guard never fired
    if code != EXIT_OK:
        # One clear line, after argparse's usage block (its wrapped lines are indented) if any.
        lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
        assert len(lines) <= 2 and len(err) < 20 * 700, err


def test_cli_post_and_reads_with_hostile_arguments(ledger: Ledger, store_kind: str, tmp_path: Path) -> None:
    """``post -`` and read commands with hostile flags: documented exit codes, nothing written."""
    ledger.runner.run(
        ledger.engine.post_json(
            b'{"entries": ['
            + b",".join(
                b'{"address": {"legal_entity": "le", "namespace": "ns", "name": "n", "currency": "GBP", "account_id": "%s"},'
                b' "type": "%s", "amount": "1.00", "timestamp": 0}' % (account, side)
                for account, side in ((b"a", b"debit"), (b"b", b"credit"))
            )
            + b"]}"
        )
    )
    before = ledger.counts()
    # Each CLI run connects anew: Cassandra gets fewer runs than SQLite to stay within minutes.
    runs = EXAMPLES if store_kind == "sqlite" else max(EXAMPLES // 10, 10)

    @settings(FUZZ, max_examples=runs)
    @given(argv=read_arguments(), document=documents(), post=st.booleans())
    def check(argv: list[str], document: bytes, post: bool) -> None:
        if post:
            code, err = _cli(["--store", ledger.url, "post", "-"], document)
            expected = _expected(document)
            assert code == (EXIT_REJECTED if isinstance(expected, ValidationError) else EXIT_OK), err
            if code == EXIT_OK:
                return
        else:
            code, err = _cli(["--store", ledger.url, *argv])
            assert code in (EXIT_OK, EXIT_REJECTED, EXIT_USAGE), err
        _no_traceback(code, err, tmp_path)

    check()
    after = ledger.counts()
    assert after[0] >= before[0]  # only accepted posts added sets; verify stayed OK throughout


def test_hostile_store_urls_exit_1_or_3(tmp_path: Path) -> None:
    """Store URLs a user may pass: rejected (1) or unreachable (3), never a traceback or a file."""

    @settings(FUZZ, max_examples=max(EXAMPLES // 5, 20))
    @given(url=store_urls(str(tmp_path)))
    def check(url: str) -> None:
        # Joined to its option, so a URL that starts with "-" reaches the URL check too (given
        # apart, argparse takes it for an option and stops with usage, exit 2).
        code, err = _cli([f"--store={url}", "accounts"])
        assert code in (EXIT_REJECTED, EXIT_UNAVAILABLE), err
        _no_traceback(code, err, tmp_path)
        assert not (tmp_path / "l.sqlite").exists()

    check()


async def test_the_engine_reports_unreachable_stores_as_unavailable() -> None:
    for url in ("cassandra://127.0.0.1:9/ks", "sqlite:/dev/null"):
        with pytest.raises(StoreUnavailable):
            await Engine(open_store(parse_store_url(url))).connect()
    assert issubclass(StoreUnavailable, LedgerError)
