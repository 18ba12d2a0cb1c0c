"""review42: ``import --workers N`` reports the bad lines one process reports, before a line that
is not UTF-8.

``ImportPool._read`` drops the chunk that a line not UTF-8 cut short without handing it to a
worker, so the bad lines before it in that chunk are never parsed and never reported: one
process names line 31 (not JSON) and line 32 (not UTF-8); the workers name line 32 only, and the
operator who fixes it meets line 31 on the next run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_import import line, sets
from .test_import_workers import command_runner, node_url  # noqa: F401 (a fixture)


@pytest.mark.cassandra
def test_workers_report_the_bad_line_before_a_line_not_utf8(node_url: str, tmp_path: Path) -> None:  # noqa: F811
    texts = [line(s) for s in sets(40, seed=41)][:33]
    source = tmp_path / "sets.jsonl"
    source.write_bytes(
        "".join(t + "\n" for t in texts[:30]).encode()
        + b"{not json\n"  # line 31
        + b'{"caf\xe9": 1}\n'  # line 32
        + texts[30].encode()
        + b"\n"
    )
    run = command_runner(node_url)
    one = run("import", str(source), "--workers", "1", "--chunk", "20", "--on-error", "skip")
    assert "line 31:" in one.stdout and "line 32: not UTF-8 text" in one.stdout, one.stdout + one.stderr
    many = run("import", str(source), "--workers", "2", "--chunk", "20", "--on-error", "skip")
    assert "line 32: not UTF-8 text" in many.stdout, many.stdout + many.stderr
    assert "line 31:" in many.stdout, many.stdout
