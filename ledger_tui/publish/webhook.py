"""The webhook sink: each event POSTed to one HTTPS endpoint, signed with a shared secret.

Why: many systems take events over HTTP and nothing else; the signature (Stripe-style, timestamped)
lets a receiver refuse forged and replayed calls, and retrying every failure until a 2xx keeps the
relay's promise that an event is never skipped (receivers drop repeats by Ledger-Event-Id; see
docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import aiohttp

from .. import __version__
from ..domain.changes import Change
from ..domain.errors import LedgerError, ValidationError
from .relay import PublishStopped

log = logging.getLogger("ledger_tui.publish")

SECRET_ENV = "LEDGER_WEBHOOK_SECRET"
MIN_SECRET = 16
#: Longest secret (file or environment) taken: a --secret-file of /dev/zero must not fill memory.
MAX_SECRET = 4096
MAX_URL = 2048
#: Most bytes of an answer read (only so its connection can be reused; the body is not used).
MAX_ANSWER = 64 * 1024
LOOPBACK_NAMES = frozenset({"localhost"})


class EndpointGone(LedgerError):
    """The endpoint answered 410 Gone: it takes no more events, so the publisher stops."""


def _url_problem(reason: str) -> ValidationError:
    return ValidationError.single("url", reason)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url(text: str) -> str:
    """``text`` if it is a URL events may be posted to: https, or http to this machine only (the
    events and their signature would otherwise cross a network in the clear)."""
    if len(text) > MAX_URL or any(c.isspace() or not c.isprintable() for c in text):
        raise _url_problem(f"must be at most {MAX_URL} printable characters without spaces")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _url_problem("must start https:// (or http:// to 127.0.0.1, ::1 or localhost)")
    if not parts.hostname:
        raise _url_problem("names no host")
    if parts.username is not None or parts.password is not None:
        raise _url_problem(
            f"must not carry a user or password: the secret goes in --secret-file or ${SECRET_ENV}"
        )
    if "#" in text:
        raise _url_problem("must not have a #fragment (it is never sent)")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise _url_problem("has a port that is not 1-65535")
    if scheme == "http" and not _is_loopback(parts.hostname):
        raise _url_problem("http:// is allowed only to 127.0.0.1, ::1 or localhost; use https://")
    return text


def _check_secret(source: str, secret: bytes) -> bytes:
    if len(secret) < MIN_SECRET:
        raise ValidationError.single(
            source, f"the secret must be at least {MIN_SECRET} bytes (e.g. openssl rand -hex 32)"
        )
    if len(secret) > MAX_SECRET:
        raise ValidationError.single(source, f"the secret must be at most {MAX_SECRET} bytes")
    return secret


def read_secret(environ: Mapping[str, str], secret_file: Path | None) -> bytes:
    """The signing secret: the file given with --secret-file (one trailing newline dropped; it
    must be readable by its owner only), else $LEDGER_WEBHOOK_SECRET."""
    if secret_file is not None:
        flag = "--secret-file"
        try:
            with secret_file.open("rb") as stream:
                mode = stat.S_IMODE(os.fstat(stream.fileno()).st_mode)
                secret = stream.read(MAX_SECRET + 2)
        except OSError as error:
            raise ValidationError.single(flag, f"{secret_file} cannot be read: {error.strerror}") from None
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            raise ValidationError.single(
                flag, f"{secret_file} is readable by other users; chmod 600 {secret_file}"
            )
        secret = secret.removesuffix(b"\r\n") if secret.endswith(b"\r\n") else secret.removesuffix(b"\n")
        if not secret:
            raise ValidationError.single(flag, f"{secret_file} is empty")
        return _check_secret(flag, secret)
    from_env = environ.get(SECRET_ENV, "")
    if not from_env:
        raise ValidationError.single(
            "secret", f"give the signing secret with --secret-file PATH or ${SECRET_ENV}"
        )
    return _check_secret(SECRET_ENV, from_env.encode("utf-8"))


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The Ledger-Signature header of ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(secret: bytes, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """Whether ``header`` (a Ledger-Signature) signs ``body`` with ``secret`` and was made within
    ``tolerance`` seconds of ``now`` (older calls may be replays). Any v1 may match (rotation)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates)


def retry_delay(attempt: int, first: float, cap: float) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): ``first`` doubling up to ``cap``, the
    upper half of that picked at random so failed posts do not come back in step."""
    ceiling = min(cap, first * 2 ** min(attempt, 64))
    return random.uniform(ceiling / 2, ceiling)


def _shown(parts: SplitResult) -> str:
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _why(error: BaseException, timeout: float) -> str:
    """A failed post, in words that never hold the URL's query (it may carry a token)."""
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "connection closed without an answer"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect ({error.os_error.strerror or type(error.os_error).__name__})"
    return type(error).__name__


class WebhookSink:
    """POSTs each event, up to ``concurrency`` at a time, retrying each until it gets a 2xx."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        concurrency: int = 8,
        timeout: float = 10.0,
        first_retry: float = 0.2,
        max_retry: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = webhook_url(url)
        self._secret = _check_secret("secret", secret)
        if concurrency < 1:
            raise ValidationError.single("concurrency", "must be at least 1")
        self._concurrency = concurrency
        self._timeout = timeout
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._clock = clock
        self._stopping = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        #: Posts that did not get a 2xx (for progress lines and tests).
        self.failures = 0

    def describe(self) -> str:
        return _shown(urlsplit(self._url))

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            connector=aiohttp.TCPConnector(limit=self._concurrency),
            headers={"User-Agent": f"ledger-tui/{__version__}"},
        )

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, changes: list[Change]) -> None:
        """Return once every event got a 2xx; raise PublishStopped if stop() comes first."""
        if self._session is None:
            raise RuntimeError("WebhookSink.send before start")
        if self._stopping.is_set():
            raise PublishStopped(f"stopped before delivering to {self.describe()}")
        queue = iter(changes)  # shared by the workers: each event is taken by one of them
        workers = {
            asyncio.create_task(self._work(self._session, queue))
            for _ in range(min(self._concurrency, len(changes)))
        }
        stopping = asyncio.create_task(self._stopped())
        try:
            while workers:
                done, _ = await asyncio.wait(workers | {stopping}, return_when=asyncio.FIRST_COMPLETED)
                for task in done & workers:
                    task.result()  # EndpointGone, or a bug: stops the page (its cursor is not saved)
                workers -= done
                if workers and stopping.done():
                    raise PublishStopped(f"stopped while delivering to {self.describe()}")
        finally:
            for task in (*workers, stopping):
                task.cancel()
            await asyncio.gather(*workers, stopping, return_exceptions=True)

    async def _stopped(self) -> None:
        await self._stopping.wait()

    async def _work(self, session: aiohttp.ClientSession, queue: Iterator[Change]) -> None:
        for change in queue:
            body = json.dumps(change.to_json(), separators=(",", ":")).encode("utf-8")
            attempt = 0
            while (why := await self._post(session, change, body)) is not None:
                self.failures += 1
                delay = retry_delay(attempt, self._first_retry, self._max_retry)
                attempt += 1
                log.warning(
                    "webhook %s: event %s %s (attempt %d); retrying in %.2g s",
                    self.describe(),
                    change.event_id,
                    why,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)  # stop() cancels this task from send

    async def _post(self, session: aiohttp.ClientSession, change: Change, body: bytes) -> str | None:
        """None once delivered, else why not. Signed afresh on each attempt, so a retry long after
        the first is not refused as a replay."""
        headers = {
            "Content-Type": "application/json",
            "Ledger-Event-Id": str(change.event_id),
            "Ledger-Event-Type": change.kind.value,
            "Ledger-Signature": sign(self._secret, int(self._clock()), body),
        }
        try:
            # A redirect is not followed: it is not a 2xx, and the signed body must go where the
            # operator said (a 3xx is retried like any failure).
            async with session.post(self._url, data=body, headers=headers, allow_redirects=False) as answer:
                status = answer.status
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    await answer.content.read(MAX_ANSWER)  # the status decides; this frees the connection
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return _why(error, self._timeout)
        if 200 <= status < 300:
            return None
        if status == 410:
            raise EndpointGone(
                f"{self.describe()} answered 410 Gone for event {change.event_id}: it takes no more "
                "events; the publisher stopped before that page (its cursor is not moved)"
            )
        return f"answered {status}"
