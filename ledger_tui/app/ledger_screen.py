"""Base of the console's mode screens: engine access, store-ready hook and failure reporting.

Workers run with ``exit_on_error=False``; a failed call ends here as a notice instead of
tearing the app down, and the screen gets a chance to clear its loading indicators. Workers
of the screen's widgets count as the screen's own: leaving cancels their reads too, and
their failures arrive as ``CallFailed`` messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..engine import Engine
from .failures import CallFailed

if TYPE_CHECKING:
    from .app import LedgerApp


#: Worker groups that only read for display: leaving the screen cancels them (posts always finish).
CANCEL_ON_LEAVE = frozenset({"accounts", "chart", "entries"})


class LedgerScreen(Screen[None]):
    """A screen that reads the ledger through the app's engine."""

    _rerun_on_return = False

    def on_screen_suspend(self) -> None:
        """Leaving cancels this screen's reads: nothing keeps querying for a screen nobody sees."""
        for worker in list(self.app.workers):
            if worker.group in CANCEL_ON_LEAVE and worker.is_running and self.owns(worker):
                worker.cancel()
                self._rerun_on_return = True

    def owns(self, worker: Worker[Any]) -> bool:
        """Whether ``worker`` was started by this screen or by one of its widgets."""
        return self in worker.node.ancestors_with_self

    def on_screen_resume(self) -> None:
        """Coming back repeats any read that leaving cancelled (never a write)."""
        if self._rerun_on_return:
            self._rerun_on_return = False
            if self.store_is_ready:
                self.rerun_reads()

    def rerun_reads(self) -> None:
        """Repeat the reads this screen shows; unlike ``retry`` it must never post anything."""
        self.retry()

    @property
    def ledger_app(self) -> LedgerApp:
        """The app, typed (screens only ever run inside LedgerApp)."""
        return cast("LedgerApp", self.app)

    @property
    def engine(self) -> Engine:
        """The engine every store call goes through."""
        return self.ledger_app.engine

    @property
    def store_is_ready(self) -> bool:
        """Whether the store is connected, so calls are worth making."""
        return self.ledger_app.connection == "connected"

    def on_mount(self) -> None:
        """Register for store-ready callbacks and load at once if the store is already up."""
        self.ledger_app.register_screen(self)
        if self.store_is_ready:
            self.store_ready()

    def store_ready(self) -> None:
        """Called when the store (re)connects: (re)load what the screen shows."""

    def retry(self) -> None:
        """Repeat the last failed or current query (the 'retry' action); defaults to a reload."""
        self.store_ready()

    def ledger_changed(self) -> None:
        """Called after this console posted: refresh anything that shows ledger contents."""

    def call_failed(self, group: str, error: BaseException) -> None:
        """Clear loading state after a failed worker of ``group`` (the notice is already shown)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed worker into a visible notice and let the screen recover."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._worker_failed(event.worker.group, event.worker.error)

    def on_call_failed(self, message: CallFailed) -> None:
        """A widget's worker failed: the same notice and recovery as for the screen's own."""
        message.stop()
        self._worker_failed(message.group, message.error)

    def _worker_failed(self, group: str, error: BaseException) -> None:
        self.ledger_app.report_failure(error)
        self.call_failed(group, error)
