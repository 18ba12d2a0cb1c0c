"""What a Cassandra driver error means for the operator, in the ledger's own error types.

Refused credentials or permissions are *access denied* (retrying will not help: exit 5); a
node that cannot be resolved, reached or does not answer in time is *unavailable* (exit 3),
and so is a write the coordinator refused because too few replicas are alive for the
consistency level (``Unavailable``): that one is not retried, it fails fast.
"""

from __future__ import annotations

from cassandra import (
    AuthenticationFailed,
    DriverException,
    InvalidRequest,
    RequestValidationException,
    Unauthorized,
    Unavailable,
    UnresolvableContactPoints,
)
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import ErrorMessage

from ...domain.errors import AccessDenied, LedgerError, StoreUnavailable

#: Protocol v5's CAS_WRITE_UNKNOWN: a conditional write's outcome is unknown (its proposal was
#: accepted by fewer replicas than a quorum, e.g. while a node goes down). The driver has no
#: class for it and raises the bare server message, so it is recognised by its code.
CAS_WRITE_UNKNOWN = 0x1700


def outcome_unknown(error: BaseException) -> bool:
    """A conditional write that may or may not have applied: retried like a write timeout (a
    claim's retry finds its own first attempt when it landed, a duplicate of the same payload)."""
    return isinstance(error, ErrorMessage) and getattr(error, "code", None) == CAS_WRITE_UNKNOWN


#: Failures of a request that another attempt may mend; every failure of a request (a server
#: error the driver has no class for arrives as a bare ``ErrorMessage``) is judged by ``refusal``.
TRANSIENT = (NoHostAvailable, DriverException, OSError)
REQUEST_FAILURES = (*TRANSIENT, ErrorMessage)


def refusal(error: BaseException) -> LedgerError | None:
    """The error to raise at once for a failed request (refused as it stands: retrying cannot
    help, or too few replicas are up: the coordinator did not even try), or None when another
    attempt may succeed (a timeout, a node going down, a conditional write's unknown outcome)."""
    text = str(error)[:300]
    if isinstance(error, InvalidRequest):
        return LedgerError(f"Cassandra rejected the request: {text}")
    if isinstance(error, Unauthorized):
        return AccessDenied(f"access denied: {text}")
    if isinstance(error, RequestValidationException | AuthenticationFailed):
        mapped = failure(error)  # refused credentials or permissions: access denied
        if isinstance(mapped, AccessDenied):
            return mapped
        return LedgerError(f"Cassandra refused the request ({type(error).__name__}): {text}")
    if isinstance(error, ErrorMessage):  # no driver exception class is also a server message
        return None if outcome_unknown(error) else LedgerError(f"Cassandra refused the request: {text}")
    return failure(error) if too_few_replicas(error) else None


def _unavailable(error: BaseException) -> StoreUnavailable:
    text = str(error).splitlines()[0] if str(error) else ""
    return StoreUnavailable(f"Cassandra did not answer ({type(error).__name__}): {text[:300]}")


def _denied(error: BaseException) -> AccessDenied:
    text = str(error).splitlines()[0] if str(error) else ""
    return AccessDenied(f"access denied: Cassandra refused the credentials or the operation: {text[:300]}")


def too_few_replicas(error: BaseException) -> bool:
    """The coordinator(s) refused to try: too few replicas alive for the consistency level
    (waiting a few seconds will not bring nodes back; the caller retries later, same id)."""
    if isinstance(error, Unavailable):
        return True
    causes = list(getattr(error, "errors", {}).values()) if isinstance(error, NoHostAvailable) else []
    return bool(causes) and all(isinstance(cause, Unavailable) for cause in causes)


def _too_few(error: BaseException) -> StoreUnavailable:
    causes = [error] if isinstance(error, Unavailable) else list(getattr(error, "errors", {}).values())
    cause = causes[0]
    alive, required = getattr(cause, "alive_replicas", None), getattr(cause, "required_replicas", None)
    counts = f" ({alive} alive, {required} required)" if alive is not None and required is not None else ""
    return StoreUnavailable(
        f"too few Cassandra nodes are up for the consistency level{counts}; retry when they are back"
    )


def failure(error: BaseException) -> LedgerError:
    """A driver error as the operator should read it: access denied (retrying will not help),
    or unavailable (unreachable, unresolvable, timed out: retry later)."""
    if isinstance(error, AuthenticationFailed | Unauthorized):
        return _denied(error)
    if isinstance(error, NoHostAvailable):
        causes = list(getattr(error, "errors", {}).values())
        refused = [cause for cause in causes if isinstance(cause, AuthenticationFailed | Unauthorized)]
        if refused and len(refused) == len(causes):
            return _denied(refused[0])
    if too_few_replicas(error):
        return _too_few(error)
    if isinstance(error, UnresolvableContactPoints):
        return StoreUnavailable("Cassandra is unreachable: no contact point host name could be resolved")
    return _unavailable(error)
