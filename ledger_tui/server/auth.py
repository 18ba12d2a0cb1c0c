"""Who may call: a bearer API key with the right scope, within its rate, on every call but /health.

Why one plain ASGI layer ahead of the fast post path: every request, routed or not, passes
the same check, and a post pays a header scan, a dict lookup and one SHA-256. A server on a
loopback address with no key created runs open (the origin's local workflow) to requests that
name this machine in their Host header (no DNS rebinding); anywhere else,
or once any key exists, a call without a valid key is refused. Keys never reach a log line.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

from ..domain.errors import LedgerError
from ..domain.keys import KeyRecord, required_scope
from ..engine.keys import KeyCache
from .errors import error_response, refusal_response
from .metrics import Metrics
from .middleware import KEY_NAME, ASGIApp, Receive, Scope, Send

_AUTHORIZATION = b"authorization"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _named_host(scope: Scope) -> str | None:
    """The host name a request's Host header gives (no port, brackets kept off), or None."""
    for name, value in scope["headers"]:
        if name == b"host":
            host: str = value.decode("latin-1").strip().lower()
            if host.startswith("["):
                return host[1:].partition("]")[0]
            return host.rpartition(":")[0] if host.count(":") == 1 else host
    return None


def bearer(scope: Scope) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header ('' when the header is not a bearer)."""
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION:
            scheme, _, key = value.decode("latin-1").strip().partition(" ")
            return key.strip() if scheme.lower() == "bearer" else ""
    return None


class RateLimiter:
    """A token bucket per key: ``rate`` requests a second, bursts of up to a second's worth."""

    def __init__(self, default: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.default, self._clock = default, clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait(self, record: KeyRecord) -> float:
        """0 when the key may call now (a token is taken), else the seconds until it may."""
        rate = record.rate_limit or self.default
        if not rate:
            return 0.0
        now = self._clock()
        tokens, at = self._buckets.get(record.key_id, (float(rate), now))
        tokens = min(float(rate), tokens + (now - at) * rate)
        if tokens >= 1:
            self._buckets[record.key_id] = (tokens - 1, now)
            return 0.0
        self._buckets[record.key_id] = (tokens, now)
        return (1 - tokens) / rate


class KeyGuard:
    """Passes a request on only with a key that may make it (or when the server runs open)."""

    def __init__(
        self,
        app: ASGIApp,
        keys: KeyCache,
        metrics: Metrics,
        *,
        open_when_keyless: bool,
        rate_limit: int | None,
    ) -> None:
        self.app, self.keys, self.metrics = app, keys, metrics
        self.open_when_keyless = open_when_keyless
        self.limiter = RateLimiter(rate_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        needed = required_scope(scope["method"], scope["path"])
        if needed is None:
            await self.app(scope, receive, send)
            return
        presented = bearer(scope)
        try:
            runs_open = presented is None and self.open_when_keyless and not await self.keys.any_key()
            record = await self.keys.authenticate(presented) if presented else None
        except LedgerError as error:  # the keys could not be read: the store is down
            await refusal_response(error, self.metrics)(scope, receive, send)
            return
        if runs_open:
            host = _named_host(scope)
            if host is None or is_loopback(host):
                await self.app(scope, receive, send)
                return
            # A page elsewhere whose name was made to resolve here (DNS rebinding) is not this machine.
            self.metrics.count("ledger_auth_refused_total")
            reason = "this server runs open on its loopback address only: call it by that address"
            await error_response(403, reason)(scope, receive, send)
            return
        if record is not None:
            scope[KEY_NAME] = record.name
        if record is None:
            self.metrics.count("ledger_auth_refused_total")
            reason = (
                "this call needs an API key: send Authorization: Bearer KEY"
                if not presented
                else "the API key is not valid (unknown, revoked or mistyped)"
            )
            response = error_response(401, reason)
            response.headers["WWW-Authenticate"] = "Bearer"
        elif not record.grants(needed):
            self.metrics.count("ledger_auth_refused_total")
            held = ", ".join(sorted(record.scopes))
            call = f"{scope['method']} {scope['path']}"
            reason = f"the key {record.name} has the scope {held}; {call} needs {needed}"
            response = error_response(403, reason)
        elif wait := self.limiter.wait(record):
            self.metrics.count("ledger_rate_limited_total")
            response = error_response(429, f"the key {record.name} is over its rate limit; retry later")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
