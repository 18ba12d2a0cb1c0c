"""The webhook sink against a real local endpoint that fails half its calls: every event arrives,
signed, the cursor ends at the end, stop() is prompt and never moves the cursor past an event that
was not delivered; and the checks on the URL, the secret and signatures."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from ledger_tui.domain.changes import ChangeType, event_id
from ledger_tui.domain.errors import ValidationError
from ledger_tui.engine import Engine
from ledger_tui.ledger import LedgerOptions, open_ledger
from ledger_tui.publish.relay import Relay, RelayProgress
from ledger_tui.publish.webhook import (
    EndpointGone,
    WebhookSink,
    read_secret,
    retry_delay,
    sign,
    verify_signature,
    webhook_url,
)

from ..support.entry_sets import transfer

SECRET = b"s3cret-s3cret-s3cret-0123"
TOKEN = "tok-do-not-log"


@dataclass
class Accepted:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """An endpoint whose answer to call n (1-based) is ``plan(n)``: ok, fail (500), hang (until the
    test ends), drop (closes the connection), gone (410) or redirect (307 to /elsewhere, which
    would accept)."""

    plan: Callable[[int], str] = lambda number: "ok"
    calls: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    hanging: int = 0
    in_flight: int = 0
    busiest: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}?token={TOKEN}"

    def accept(self, request: web.Request, body: bytes) -> web.Response:
        self.accepted.append(Accepted(dict(request.headers), body, time.time()))
        return web.Response(status=204)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        number = self.calls
        self.in_flight += 1
        self.busiest = max(self.busiest, self.in_flight)
        try:
            body = await request.read()
            await asyncio.sleep(0.002)  # long enough for the sink's other posts to arrive meanwhile
            if request.path == "/elsewhere":
                return self.accept(request, body)
            action = self.plan(number)
            if action == "hang":
                self.hanging += 1
                self.in_flight -= 1  # the sink gave up on it: it no longer counts against its limit
                await self.release.wait()
                self.in_flight += 1
                return web.Response(status=500)
            if action == "drop":
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            if action == "redirect":
                raise web.HTTPTemporaryRedirect("/elsewhere")
            if action in ("fail", "gone"):
                return web.Response(status=500 if action == "fail" else 410)
            assert action == "ok", action
            return self.accept(request, body)
        finally:
            self.in_flight -= 1

    def events(self) -> set[uuid.UUID]:
        return {uuid.UUID(a.headers["Ledger-Event-Id"]) for a in self.accepted}


async def serve(receiver: Receiver, port: int = 0) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    receiver.port = runner.addresses[0][1]
    return runner


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    runner = await serve(made)
    yield made
    made.release.set()
    await runner.cleanup()


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Engine]:
    async with open_ledger(LedgerOptions(store="sqlite:" + str(tmp_path / "l.db"))) as engine:
        yield engine


def sink(url: str, timeout: float = 0.3) -> WebhookSink:
    """A sink with small retry delays, so a test sees many retries quickly."""
    return WebhookSink(url, SECRET, timeout=timeout, first_retry=0.01, max_retry=0.05)


async def post_sets(engine: Engine, count: int) -> list[uuid.UUID]:
    posted = []
    for number in range(count):
        txid = uuid.uuid4()
        await engine.post_json(transfer(f"{number + 1}.00", 1727347200000 + number, transaction_id=txid))
        posted.append(txid)
    return posted


def events_of(posted: list[uuid.UUID]) -> set[uuid.UUID]:
    return {event_id(ChangeType.RECORDED, txid) for txid in posted}


async def publish(engine: Engine, webhook: WebhookSink, within: float = 30.0) -> RelayProgress:
    """One relay run to the end of the feed (a sink that never gets there fails the test)."""
    return await asyncio.wait_for(Relay(engine, webhook, "hook", poll=0.01).run(stop_when_idle=True), within)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


# --------------------------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------------------------


async def test_every_event_arrives_signed_from_an_endpoint_that_fails_half_its_calls(
    ledger: Engine, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.plan = lambda n: "hang" if n == 4 else "drop" if n == 6 else "fail" if n % 2 else "ok"
    posted = await post_sets(ledger, 200)
    webhook = sink(receiver.url())
    progress = await publish(ledger, webhook)

    assert receiver.events() == events_of(posted)  # every event, once dropped repeats
    assert progress.events == 200
    assert receiver.hanging == 1 and webhook.failures >= receiver.calls // 2 - 1
    assert 1 < receiver.busiest <= 8  # posts in flight at once, never more than the concurrency
    for accepted in receiver.accepted:
        signature = accepted.headers["Ledger-Signature"]
        assert verify_signature(SECRET, signature, accepted.body, now=accepted.at)
        assert not verify_signature(b"another-secret-of-16+", signature, accepted.body, now=accepted.at)
        event = json.loads(accepted.body)
        assert accepted.headers["Content-Type"] == "application/json"
        assert accepted.headers["Ledger-Event-Id"] == event["event_id"]
        assert accepted.headers["Ledger-Event-Type"] == event["type"] == "entry_set.recorded"
        assert uuid.UUID(event["transaction_id"]) in posted
    assert SECRET.decode() not in caplog.text and TOKEN not in caplog.text
    for why in ["answered 500", "no answer within 0.3 s", "connection closed without an answer"]:
        assert why in caplog.text

    saved = await ledger.changes().saved("hook")
    assert saved is not None and saved == progress.cursor
    assert (await ledger.changes().page(saved)).changes == []
    calls = receiver.calls
    again = await publish(ledger, sink(receiver.url()))
    assert again.events == 0 and receiver.calls == calls


async def test_an_endpoint_that_is_not_listening_yet_is_retried_until_it_answers(ledger: Engine) -> None:
    with socket.socket() as probe:  # a port nothing listens on (connection refused)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    posted = await post_sets(ledger, 10)
    webhook = sink(f"http://127.0.0.1:{port}/hook")
    running = asyncio.create_task(publish(ledger, webhook))
    await until(lambda: webhook.failures >= 20)
    late = Receiver()
    runner = await serve(late, port)
    try:
        progress = await asyncio.wait_for(running, 10)
    finally:
        await runner.cleanup()
    assert progress.events == 10 and late.events() == events_of(posted)


@pytest.mark.parametrize("failure", ["fail", "hang", "redirect"])
async def test_stop_during_endless_failures_is_prompt_and_keeps_the_cursor_before_them(
    ledger: Engine, receiver: Receiver, failure: str
) -> None:
    first = await post_sets(ledger, 3)
    await publish(ledger, sink(receiver.url()))
    before = await ledger.changes().saved("hook")
    assert before is not None and receiver.events() == events_of(first)

    later = await post_sets(ledger, 5)
    receiver.plan = lambda n: failure
    receiver.accepted.clear()
    calls = receiver.calls
    relay = Relay(ledger, sink(receiver.url(), timeout=30), "hook", poll=0.01)
    running = asyncio.create_task(relay.run())
    if failure == "hang":
        await until(lambda: receiver.hanging == 5)  # every post in flight, none answered
    else:
        await until(lambda: receiver.calls >= calls + 25)  # retried over and over
    stopped_at = time.monotonic()
    relay.stop()
    progress = await asyncio.wait_for(running, 5)
    assert time.monotonic() - stopped_at < 2.0  # not the 30 s timeout of a post in flight
    assert progress.events == 0 and receiver.accepted == []  # a redirect is not followed
    assert await ledger.changes().saved("hook") == before

    receiver.plan = lambda n: "ok"  # the endpoint recovers: the next run delivers what was held back
    resumed = await publish(ledger, sink(receiver.url()))
    assert resumed.events == 5 and receiver.events() == events_of(later)


async def test_410_gone_stops_the_publisher_without_moving_its_cursor(
    ledger: Engine, receiver: Receiver
) -> None:
    await post_sets(ledger, 3)
    receiver.plan = lambda n: "gone"
    with pytest.raises(EndpointGone, match="410 Gone"):
        await publish(ledger, sink(receiver.url()), within=5)
    assert await ledger.changes().saved("hook") is None
    assert receiver.calls <= 3  # not retried


# --------------------------------------------------------------------------------------------
# The URL, the secret, signatures, backoff
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hook", "https://EXAMPLE.com:8443/h?key=1", "http://127.0.0.1:8080/h",
     "http://[::1]:9000/h", "http://localhost/h", "http://127.8.9.10/h", "HTTPS://example.com"],
)  # fmt: skip
def test_urls_events_may_be_posted_to(url: str) -> None:
    assert webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/hook", "http:// is allowed only to"),
        ("http://10.0.0.1/hook", "http:// is allowed only to"),
        ("http://localhost.example.com/h", "http:// is allowed only to"),
        ("ftp://example.com/hook", "must start https://"),
        ("example.com/hook", "must start https://"),
        ("https:///hook", "names no host"),
        ("https://user:pw@example.com/hook", "must not carry a user or password"),
        ("https://token@example.com/hook", "must not carry a user or password"),
        ("https://example.com/hook#part", "must not have a #fragment"),
        ("https://example.com:99999/hook", "port"),
        ("https://example.com:0/hook", "port"),
        ("https://example.com:x/hook", "port"),
        (" https://example.com/hook", "without spaces"),
        ("https://example.com/ho ok", "without spaces"),
        ("https://example.com/" + "a" * 3000, "at most 2048"),
    ],
)
def test_urls_refused(url: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as refused:
        webhook_url(url)
    assert refused.value.problems[0].field == "url"


def test_describe_shows_neither_the_query_nor_the_secret() -> None:
    webhook = WebhookSink("https://example.com:8443/in/hook?token=abc", SECRET)
    assert webhook.describe() == "https://example.com:8443/in/hook"
    assert WebhookSink("http://[::1]/h", SECRET).describe() == "http://[::1]/h"
    assert SECRET.decode() not in repr(webhook) and SECRET.decode() not in repr(vars(webhook).keys())


def test_the_sink_refuses_a_short_secret_or_a_bad_url() -> None:
    with pytest.raises(ValidationError, match="at least 16 bytes"):
        WebhookSink("https://example.com/h", b"short")
    with pytest.raises(ValidationError, match="http:// is allowed only to"):
        WebhookSink("http://example.com/h", SECRET)


def secret_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "secret"
    path.write_bytes(content)
    os.chmod(path, mode)
    return path


def test_the_secret_file_wins_and_loses_one_trailing_newline(tmp_path: Path) -> None:
    environ = {"LEDGER_WEBHOOK_SECRET": "from-the-environment-0123"}
    assert read_secret(environ, secret_file(tmp_path, SECRET + b"\n")) == SECRET
    assert read_secret(environ, secret_file(tmp_path, SECRET + b"\r\n")) == SECRET
    assert read_secret(environ, secret_file(tmp_path, SECRET + b"\r")) == SECRET + b"\r"
    assert read_secret(environ, secret_file(tmp_path, b" " + SECRET + b" \n\n")) == b" " + SECRET + b" \n"
    assert read_secret(environ, None) == b"from-the-environment-0123"


@pytest.mark.parametrize(
    ("content", "mode", "reason"),
    [
        (SECRET, 0o644, "readable by other users; chmod 600"),
        (SECRET, 0o640, "readable by other users; chmod 600"),
        (b"", 0o600, "is empty"),
        (b"\n", 0o600, "is empty"),
        (b"0123456789", 0o600, "at least 16 bytes"),
        (b"x" * 5000, 0o600, "at most 4096 bytes"),
    ],
)
def test_secret_files_refused(tmp_path: Path, content: bytes, mode: int, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as refused:
        read_secret({}, secret_file(tmp_path, content, mode))
    assert refused.value.problems[0].field == "--secret-file"
    assert SECRET.decode() not in str(refused.value)


def test_a_missing_secret_names_both_sources(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"--secret-file PATH or \$LEDGER_WEBHOOK_SECRET"):
        read_secret({"LEDGER_WEBHOOK_SECRET": ""}, None)
    with pytest.raises(ValidationError, match=r"--secret-file: .*cannot be read"):
        read_secret({}, tmp_path / "nowhere")
    with pytest.raises(ValidationError, match="LEDGER_WEBHOOK_SECRET: the secret must be at least 16"):
        read_secret({"LEDGER_WEBHOOK_SECRET": "short"}, None)


def test_signatures_verify_only_for_the_same_secret_body_and_a_recent_time() -> None:
    body = b'{"event_id":"x"}'
    header = sign(SECRET, 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=") and len(header.partition("v1=")[2]) == 64
    assert verify_signature(SECRET, header, body, now=1_700_000_000)
    assert verify_signature(SECRET, header, body, now=1_700_000_299)
    assert not verify_signature(SECRET, header, body, now=1_700_000_301)  # a replay, later
    assert not verify_signature(SECRET, header, body, now=1_699_999_000)  # from the future
    assert not verify_signature(SECRET, header, body + b" ", now=1_700_000_000)
    assert not verify_signature(SECRET + b"!", header, body, now=1_700_000_000)
    other = sign(SECRET, 1_700_000_001, body)  # a valid digest under another time
    assert not verify_signature(SECRET, "t=1700000000," + other.partition(",")[2], body, now=1_700_000_000)
    rotated = f"{header},v1={'0' * 64}"
    assert verify_signature(SECRET, rotated, body, now=1_700_000_000)
    for broken in ["", "v1=abc", header.partition(",")[2], "t=x," + header.partition(",")[2], "t=1700000000"]:
        assert not verify_signature(SECRET, broken, body, now=1_700_000_000)


def test_retry_delays_double_from_the_first_to_the_cap_with_jitter() -> None:
    for attempt, ceiling in [(0, 0.2), (1, 0.4), (3, 1.6), (7, 25.6), (8, 30.0), (1000, 30.0)]:
        delays = [retry_delay(attempt, 0.2, 30.0) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not in step
