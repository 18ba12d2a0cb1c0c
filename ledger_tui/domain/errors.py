"""Errors the ledger raises, each carrying text that is safe to show an operator."""

from __future__ import annotations

from dataclasses import dataclass


class LedgerError(Exception):
    """Base of every error this package raises on purpose; its text is user-facing."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One rejected field: where it is (e.g. ``entries[2].amount``) and why it was rejected."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


#: Problems an error message lists; the rest are counted, so hostile input cannot flood a terminal.
SHOWN_PROBLEMS = 20


class ValidationError(LedgerError):
    """Input was rejected; nothing was written. Lists the problems found (the first 20, then a
    count of the rest), not just the first."""

    def __init__(self, problems: list[FieldProblem] | FieldProblem) -> None:
        self.problems = [problems] if isinstance(problems, FieldProblem) else list(problems)
        text = "; ".join(str(p) for p in self.problems[:SHOWN_PROBLEMS])
        if len(self.problems) > SHOWN_PROBLEMS:
            text += f"; and {len(self.problems) - SHOWN_PROBLEMS} more problem(s)"
        super().__init__(text)

    @classmethod
    def single(cls, field: str, reason: str) -> ValidationError:
        """Build an error for one field, the common case."""
        return cls(FieldProblem(field, reason))


class ConflictingResubmission(LedgerError):
    """A transaction id was reused with a different payload; the original stands untouched."""

    def __init__(self, transaction_id: object) -> None:
        super().__init__(
            f"conflicting resubmission: transaction {transaction_id} was already recorded "
            "with a different payload"
        )
        self.transaction_id = transaction_id


class StoreUnavailable(LedgerError):
    """The store could not be reached or did not answer in time; safe to retry later."""


class BrokerUnavailable(StoreUnavailable):
    """The Kafka broker could not be reached or did not answer in time; safe to retry later."""


class StoreBusy(StoreUnavailable):
    """Another writer held the store's lock past the busy timeout; safe to retry later."""


class AccessDenied(LedgerError):
    """The store refused our credentials (or has none from us, or we lack a permission).

    Retrying with the same settings cannot help, so it is kept apart from StoreUnavailable."""


class TlsFailure(LedgerError):
    """A TLS connection could not be set up (untrusted certificate, name mismatch, bad key)."""


class NotConfirmed(StoreUnavailable):
    """A write failed after its claim may have landed: retry with the same id (never "nothing
    written"); a retry or ``repair`` completes it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not confirmed: retry with the same transaction id ({reason})")


class NotFound(LedgerError):
    """A named thing (transaction, named balance) does not exist."""
