"""The base of the console's mode screens, and the context every screen of one console shares.

Why a context: screens and dialogs get the engine, the clock and the draft ids in their
constructor instead of reaching into the app, and tell the app what happened by messages
(``messages.py``). Workers run with ``exit_on_error=False``: a failed call becomes a
``CallFailed`` message, so the screen clears what was loading and the app shows the notice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic
from typing import Any, Literal, Protocol, cast

from textual import on
from textual.app import App
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ..domain.changes import Change
from ..domain.model import Entry
from ..engine import Engine
from .messages import CallFailed
from .widgets.accounts import AccountsCache

Connection = Literal["connecting", "connected", "unavailable"]
#: Worker groups that only read for display: leaving the screen cancels them (posts always finish).
CANCEL_ON_LEAVE = frozenset({"accounts", "chart", "entries"})
#: A screen re-reads for sets committed elsewhere at most this often (a busy ledger commits many a second).
LIVE_REFRESH_SECONDS = 1.0


def entries_of(changes: Sequence[Change]) -> Iterator[Entry]:
    """Every entry the committed sets wrote (effective times resolved)."""
    for change in changes:
        yield from change.transaction.entries()


@dataclass(eq=False)
class ConsoleContext:
    """What the screens of one console share; the app alone writes ``connection``."""

    engine: Engine
    clock: Callable[[], datetime]
    new_transaction_id: Callable[[], uuid.UUID] = uuid.uuid4
    #: Every account, read once for search, type-ahead and the palette; forgotten on change.
    accounts: AccountsCache = field(default_factory=AccountsCache)
    #: Entries per browse page from the config file or --page-size (None: the panel's default).
    page_size: int | None = None
    connection: Connection = "connecting"

    @property
    def store_is_ready(self) -> bool:
        """Whether the store is connected, so calls are worth making."""
        return self.connection == "connected"


class _HasContext(Protocol):
    context: ConsoleContext


def console_context(app: App[Any]) -> ConsoleContext:
    """The console's context, typed, for what Textual builds itself (command palette providers)."""
    return cast(_HasContext, app).context


class LedgerScreen(Screen[None]):
    """A screen that reads the ledger through the console's engine."""

    _rerun_on_return = False

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        self._live_timer: Timer | None = None
        self._live_last = float("-inf")

    @property
    def engine(self) -> Engine:
        """The engine every store call goes through."""
        return self.context.engine

    @property
    def store_is_ready(self) -> bool:
        """Whether the store is connected, so calls are worth making."""
        return self.context.store_is_ready

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

    #: Whether ``on_mount`` ran: the app tells a screen of the store only from then on (one
    #: built but not yet mounted loads in ``on_mount`` instead, never twice).
    has_mounted = False

    def on_mount(self) -> None:
        """Load at once if the store is already up (else the app calls ``store_ready`` later)."""
        self.has_mounted = True
        if self.store_is_ready:
            self.store_ready()

    def store_ready(self) -> None:
        """Called when the store (re)connects: (re)load what the screen shows."""

    def retry(self) -> None:
        """Repeat the last failed or current query (the 'retry' action); defaults to a reload."""
        self.store_ready()

    def ledger_changed(self) -> None:
        """Called after this console wrote: refresh anything that shows ledger contents."""

    def sets_committed(self, changes: Sequence[Change]) -> None:
        """Called with sets another process committed: show what they touch (default: nothing)."""

    def refresh_live(self, action: Callable[[], None]) -> None:
        """Run ``action`` now, or once when LIVE_REFRESH_SECONDS have passed since it last ran
        (however many sets arrive meanwhile): a busy ledger re-reads a screen once a second."""
        if self._live_timer is not None:
            return
        wait = self._live_last + LIVE_REFRESH_SECONDS - monotonic()
        if wait <= 0:
            self._run_live(action)
        else:
            self._live_timer = self.set_timer(wait, lambda: self._run_live(action))

    def _run_live(self, action: Callable[[], None]) -> None:
        self._live_timer = None
        self._live_last = monotonic()
        action()

    def call_failed(self, group: str, error: BaseException) -> None:
        """Clear loading state after a failed worker of ``group`` (the app shows the notice)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker of the screen's own is told like a widget's: as a ``CallFailed``."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.post_message(CallFailed(event.worker.group, event.worker.error))

    @on(CallFailed)
    def _recover(self, message: CallFailed) -> None:
        """Let the screen recover; the message goes on up to the app, which shows the notice."""
        self.call_failed(message.group, message.error)
