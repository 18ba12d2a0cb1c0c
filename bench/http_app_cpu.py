"""CPU of the HTTP app per ``POST /transactions``, layer by layer, with the store stubbed out.

Runs the ASGI app in this process (no socket, no uvicorn) over an engine whose store records
instantly, and times: the whole app; the same post handed straight to ``Engine.post_json``
(parse + validate + the engine's own work, no HTTP); the JSON decode alone. The difference
is what routing, dependencies, the guard and the response cost per request; the keyed run adds
checking an API key on every post.
Usage: python bench/http_app_cpu.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from online_load import two_leg_bodies

from ledger_tui.domain.claims import RecordOutcome
from ledger_tui.domain.model import RecordedTransaction
from ledger_tui.domain.parse import loads_exact
from ledger_tui.engine import Engine
from ledger_tui.server.app import create_app
from ledger_tui.store.sqlite import SqliteStore


class InstantStore(SqliteStore):
    """A store whose online write succeeds at once (reads and schema as SQLite in memory)."""

    async def record(self, transaction: RecordedTransaction, policy: Any) -> RecordOutcome:
        return RecordOutcome(transaction, duplicate=False)


async def through_app(app: Any, bodies: list[bytes], extra: list[tuple[bytes, bytes]] | None = None) -> float:
    """Seconds for the app to answer a POST of each body (sequentially, no socket)."""
    started = time.perf_counter()
    for body in bodies:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/transactions", "raw_path": b"/transactions", "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080),
            "headers": [(b"host", b"x"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()), *(extra or [])],
        }  # fmt: skip
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any], status: list[int] = status) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [201]:
            raise SystemExit(f"the app answered {status}")
    return time.perf_counter() - started


async def main(requests: int) -> None:
    engine = Engine(InstantStore(Path(tempfile.mkdtemp()) / "ledger.sqlite"))
    await engine.connect()
    await engine.apply_schema()
    app = create_app(engine)
    warm = two_leg_bodies(500, seed=1)
    await through_app(app, warm)
    bodies = two_leg_bodies(requests, seed=2)
    app_s = await through_app(app, bodies)
    started = time.perf_counter()
    for body in bodies:
        await engine.post_json(body)
    engine_s = time.perf_counter() - started
    started = time.perf_counter()
    for body in bodies:
        loads_exact(body)
    decode_s = time.perf_counter() - started
    _, key = await engine.keys().create("bench", frozenset({"post"}))
    keyed = [(b"authorization", f"Bearer {key}".encode())]
    await through_app(app, warm, keyed)
    keyed_s = await through_app(app, two_leg_bodies(requests, seed=3), keyed)
    await engine.close()
    per = 1e6 / requests
    print(f"{requests} two-leg posts, store stubbed; microseconds of CPU per post:")
    print(f"  whole app (routing, guard, parse, validate, engine, response): {app_s * per:7.1f}")
    print(f"  whole app, with an API key checked on each post:               {keyed_s * per:7.1f}")
    print(f"  Engine.post_json alone (parse, validate, engine):              {engine_s * per:7.1f}")
    print(f"  JSON decode alone:                                             {decode_s * per:7.1f}")
    print(f"  the HTTP app's own share (whole - engine):                     {(app_s - engine_s) * per:7.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    asyncio.run(main(parser.parse_args().requests))
