"""How a failed Cassandra request is judged: raised at once (and as what) or tried again.

The store's retry loop asks ``refusal`` about every failure; these are its verdicts for each
kind the driver raises (the node-level tests in tests/contract/test_store_failures.py inject
the same failures into real requests)."""

from __future__ import annotations

import pytest
from cassandra import (
    AuthenticationFailed,
    InvalidRequest,
    OperationTimedOut,
    ReadTimeout,
    Unauthorized,
    Unavailable,
    WriteTimeout,
)
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import ErrorMessage

from ledger_tui.domain.errors import AccessDenied, LedgerError, StoreUnavailable
from ledger_tui.store.cassandra.errors import CAS_WRITE_UNKNOWN, REQUEST_FAILURES, refusal


@pytest.mark.parametrize(
    "error",
    [
        OperationTimedOut("no answer"),
        WriteTimeout("write timed out", consistency=1, write_type=5),
        ReadTimeout("read timed out", consistency=1),
        NoHostAvailable("none", {"127.0.0.1": ConnectionRefusedError()}),
        ConnectionResetError(),
        ErrorMessage(code=CAS_WRITE_UNKNOWN, message="CAS operation result is unknown", info=None),
    ],
)
def test_a_failure_another_attempt_may_mend_is_tried_again(error: BaseException) -> None:
    assert isinstance(error, REQUEST_FAILURES)
    assert refusal(error) is None


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (InvalidRequest("unconfigured table"), LedgerError, "rejected the request: unconfigured table"),
        (Unauthorized("no SELECT"), AccessDenied, "access denied: no SELECT"),
        (AuthenticationFailed("bad password"), AccessDenied, "access denied"),
        (ErrorMessage(code=0x1234, message="something new", info=None), LedgerError, "something new"),
        (Unavailable("down", alive_replicas=1, required_replicas=2), StoreUnavailable, "1 alive, 2 required"),
    ],
)
def test_a_refused_request_is_raised_at_once_as_the_operator_should_read_it(
    error: BaseException, kind: type[LedgerError], words: str
) -> None:
    assert isinstance(error, REQUEST_FAILURES)
    refused = refusal(error)
    assert type(refused) is kind
    assert words in str(refused)
