"""How a Cassandra session is secured and how its failures read: TLS context, refused
credentials and TLS errors told apart from an unreachable cluster."""

from __future__ import annotations

import ssl

from cassandra import AuthenticationFailed
from cassandra.cluster import NoHostAvailable

from ..domain.errors import AccessDenied, LedgerError, StoreUnavailable, TlsFailure, ValidationError
from .cassandra_errors import failure
from .credentials import Credentials
from .url import CassandraUrl


def unavailable(error: BaseException) -> StoreUnavailable:
    text = str(error).splitlines()[0] if str(error) else ""
    return StoreUnavailable(f"Cassandra did not answer ({type(error).__name__}): {text[:300]}")


def _is_tls_problem(cause: BaseException) -> bool:
    return isinstance(cause, ssl.SSLError) or "[SSL" in str(cause)


def connect_failure(error: BaseException, url: CassandraUrl, credentials: Credentials | None) -> LedgerError:
    """What a failed connect means for the operator: refused credentials and TLS problems are
    not worth retrying as they are, so they are told apart from an unreachable cluster."""
    causes = list(error.errors.values()) if isinstance(error, NoHostAvailable) and error.errors else [error]
    for cause in causes:
        if isinstance(cause, AuthenticationFailed):
            if credentials is None:
                return AccessDenied(
                    "access denied: the cluster requires a username and password (set "
                    "LEDGER_CASSANDRA_USERNAME/LEDGER_CASSANDRA_PASSWORD or use a credentials file)"
                )
            detail = str(cause).split("message=", 1)[-1].strip('"')[:200]
            return AccessDenied(
                f"access denied for user {credentials.username!r} ({credentials.source}): {detail}"
            )
    for cause in causes:
        if _is_tls_problem(cause):
            detail = str(cause).split("Last error: ", 1)[-1][:300]
            if "VERIFY_FAILED" in detail:
                hint = f" (trusted CA: {url.ca})" if url.ca else " (trusted CAs: the system's; set ca=PATH)"
            elif url.cert is None:  # the node hung up or alerted during the handshake
                hint = " (if the cluster requires a client certificate, add cert=PATH&key=PATH)"
            else:
                hint = ""
            return TlsFailure(f"TLS error: {detail}{hint}")
    if not url.tls and any(isinstance(cause, ConnectionResetError) for cause in causes):
        return StoreUnavailable(f"{unavailable(error)} (if the cluster requires TLS, add tls=true&ca=PATH)")
    return failure(error)  # unresolvable, unreachable or not answering: retry later


def tls_context(url: CassandraUrl) -> ssl.SSLContext:
    """The client TLS context the URL describes (hostname checked unless check_hostname=false)."""
    try:
        context = ssl.create_default_context(cafile=str(url.ca) if url.ca else None)
    except FileNotFoundError:
        raise ValidationError.single("store.ca", f"{url.ca} does not exist") from None
    except (ssl.SSLError, OSError) as error:
        raise ValidationError.single("store.ca", f"{url.ca} is not a PEM CA file ({error})") from None
    context.check_hostname = url.check_hostname
    if url.cert is not None:
        try:
            context.load_cert_chain(str(url.cert), str(url.key) if url.key else None)
        except FileNotFoundError:
            raise ValidationError.single("store.cert", f"{url.cert} or {url.key} does not exist") from None
        except (ssl.SSLError, OSError) as error:
            raise ValidationError.single(
                "store.cert", f"cannot load the client certificate/key ({error})"
            ) from None
    return context
