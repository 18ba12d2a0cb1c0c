"""What a Cassandra driver error means for the operator, in the ledger's own error types.

Refused credentials or permissions are *access denied* (retrying will not help: exit 5); a
node that cannot be resolved, reached or does not answer in time is *unavailable* (exit 3).
"""

from __future__ import annotations

from cassandra import AuthenticationFailed, Unauthorized, UnresolvableContactPoints
from cassandra.cluster import NoHostAvailable

from ..domain.errors import AccessDenied, LedgerError, StoreUnavailable


def _unavailable(error: BaseException) -> StoreUnavailable:
    text = str(error).splitlines()[0] if str(error) else ""
    return StoreUnavailable(f"Cassandra did not answer ({type(error).__name__}): {text[:300]}")


def _denied(error: BaseException) -> AccessDenied:
    text = str(error).splitlines()[0] if str(error) else ""
    return AccessDenied(f"access denied: Cassandra refused the credentials or the operation: {text[:300]}")


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
    if isinstance(error, UnresolvableContactPoints):
        return StoreUnavailable("Cassandra is unreachable: no contact point host name could be resolved")
    return _unavailable(error)
