"""LedgerApp: the shell around the compose, browse, chart and trial balance screens.

Each screen is a Textual mode built with the console's context, so switching keeps its state;
the store is connected in a worker, so a dead store is a notice (and a retry key), never a
crash. Screens and dialogs tell the shell what happened by messages it handles with ``@on``.
Once connected it follows the change feed, so sets committed elsewhere show within a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from time import monotonic
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ..domain.errors import AccessDenied, StoreUnavailable
from ..domain.model import Address
from ..engine import Engine
from .browse.screen import BrowseScreen
from .chart.screen import ChartScreen
from .compose.screen import ComposeScreen
from .failures import describe_failure, with_timeout
from .find.finder import AccountFinder
from .find.palette import AccountCommands
from .holds.screen import HoldsScreen
from .ledger_screen import Connection, ConsoleContext, LedgerScreen
from .live import FOLLOW_GROUP, LIVE, PUBLISHERS_GROUP, LiveFeed, LiveOptions, PublisherWatch, paused_notice
from .messages import AccountPicked, CallFailed, LedgerChanged, PublishersChecked, SetsCommitted
from .trial_balance.screen import TrialBalanceScreen
from .widgets.dialogs import LoginPrompt
from .widgets.help_screen import HelpScreen
from .widgets.ledger_input import LedgerInput

#: Each mode's title, for help and the palette (the modes themselves: main.SCREEN_NAMES).
SCREEN_TITLES = {
    "compose": "Compose", "browse": "Browse", "chart": "Chart", "trial": "Trial balance", "holds": "Holds"
}  # fmt: skip
#: How often the header's cluster line (nodes up/total) is refreshed; no I/O, the driver's view.
CLUSTER_WATCH_SECONDS = 1.0
#: How often the open console seals settled days into balance blocks (docs/balance-blocks.md).
SEAL_EVERY_SECONDS = 300.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerApp(App[None]):
    """The console: one engine, three modes, a header that says which store and whether it is up."""

    CSS_PATH = "app.tcss"
    TITLE = "ledger-tui"
    COMMANDS = App.COMMANDS | {AccountCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "switch_mode('compose')", "Compose"),
        Binding("f3", "switch_mode('browse')", "Browse"),
        Binding("f4", "switch_mode('chart')", "Chart"),
        Binding("1", "switch_mode('compose')", "Compose", show=False),
        Binding("2", "switch_mode('browse')", "Browse", show=False),
        Binding("3", "switch_mode('chart')", "Chart", show=False),
        Binding("f7", "switch_mode('trial')", "Trial balance", show=False),
        Binding("4", "switch_mode('trial')", "Trial balance", show=False),
        Binding("f8,5", "switch_mode('holds')", "Holds", show=False),
        Binding("ctrl+f", "find_account", "Find account", show=False),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+q", "quit", "Quit", show=False),
        # Priority: the focus moves when the key is read, not after the keys still queued in the
        # field before it (else, when the app is behind, the next value lands in the old field).
        Binding("tab", "next_field", "Next field (accepts a completion)", show=False, priority=True),
        Binding("shift+tab", "previous_field", "Previous field", show=False, priority=True),
    ]

    connection: reactive[Connection] = reactive("connecting")

    class StoreConnected(Message):
        """The store answered and (for SQLite) its schema is in place."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = _utc_now,
        start_screen: str = "compose",
        store_label: str | None = None,
        cursor_blink: bool = True,
        new_transaction_id: Callable[[], uuid.UUID] = uuid.uuid4,
        initial_account: tuple[Address, str] | None = None,
        seal_every: float | None = SEAL_EVERY_SECONDS,
        page_size: int | None = None,
        live: LiveOptions | None = LIVE,
    ) -> None:
        super().__init__()
        # Seconds between background seals while the console is open (None: never).
        self.seal_every = seal_every
        # Following the change feed and checking publishers (None: only this console's posts show).
        self._live = None if live is None else LiveFeed(live)
        self._publishers = PublisherWatch(live.stall_after if live else 0.0)
        self._follow_retry: Timer | None = None
        self.engine = engine
        self.context = ConsoleContext(engine, clock, new_transaction_id, page_size=page_size)
        self.start_screen = start_screen if start_screen in SCREEN_TITLES else "compose"
        self.store_label = store_label
        self.cursor_blink = cursor_blink
        self._screens: list[LedgerScreen] = []
        self._retry_after_connect: LedgerScreen | None = None
        self._cluster_seen: tuple[int, int] | None = None
        self._sealing_scheduled = False
        for mode, build in (
            ("compose", partial(ComposeScreen, self.context)),
            # An (account, bucket) browse opens once the store is ready (the demo's view).
            ("browse", partial(BrowseScreen, self.context, opening=initial_account)),
            ("chart", partial(ChartScreen, self.context)),
            ("trial", partial(TrialBalanceScreen, self.context)),
            ("holds", partial(HoldsScreen, self.context)),
        ):
            self.add_mode(mode, partial(self._mode_screen, build))

    def _mode_screen(self, build: Callable[[], LedgerScreen]) -> LedgerScreen:
        """Build a mode's screen the first time it is shown, and remember it for store events."""
        screen = build()
        self._screens.append(screen)
        return screen

    # -- start-up and connection -------------------------------------------------------------

    def on_mount(self) -> None:
        """Show the start screen and connect in the background."""
        if self.engine.named_balances_error is not None:
            self.notify(f"named balances not loaded: {self.engine.named_balances_error}", severity="warning")
        self._update_sub_title()
        self.switch_mode(self.start_screen)
        self.connect_store()
        self.set_interval(CLUSTER_WATCH_SECONDS, self.watch_cluster)
        if self._live is not None:
            self.set_interval(self._live.options.publishers_every, self._publishers_tick)

    def watch_cluster(self) -> None:
        """Keep the header's nodes-up count current and tell when a node goes down or comes back
        (a cluster keeps taking posts while a quorum of replicas is up)."""
        nodes = self.engine.cluster_nodes()
        before, self._cluster_seen = self._cluster_seen, nodes
        if nodes == before or nodes is None:
            return
        self._update_sub_title()
        if before is None or nodes[1] != before[1]:
            return
        up, total = nodes
        if up == 0 and self.connection == "connected":
            self.connection = "unavailable"  # ctrl+r now reconnects instead of repeating a query
        if up < before[0]:
            self.notify(f"{up}/{total} nodes up", title="Cluster node down", severity="warning", timeout=8)
        elif up > before[0]:
            self.notify(f"{up}/{total} nodes up", title="Cluster node back", timeout=5)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect_store(self) -> None:
        """Connect (the embedded store creates its schema), then tell the screens."""
        await with_timeout(self.engine.connect())
        self.post_message(self.StoreConnected())

    def on_ledger_app_store_connected(self, _: StoreConnected) -> None:
        """Mark the store up, let every screen load, and keep sealing in the background."""
        self.connection = "connected"
        if self.seal_every is not None and not self._sealing_scheduled:
            self._sealing_scheduled = True
            self.set_interval(self.seal_every, self._seal_tick)
            self._seal_tick()
        self._start_live()
        retry_on, self._retry_after_connect = self._retry_after_connect, None
        if retry_on is not self.screen:
            retry_on = None
        for screen in self._mounted_screens():
            if screen is retry_on:
                screen.retry()  # ctrl+r promised a retry (which reloads too), not just a reconnect
            else:
                screen.store_ready()

    def _seal_tick(self) -> None:
        """Start a seal unless one is still running (a long seal is never cancelled by the next)."""
        if not self._group_running("seal"):
            self.seal_in_background()

    @work(group="seal", exit_on_error=False)
    async def seal_in_background(self) -> None:
        """Seal settled days and record expired holds (both idempotent; reads are exact either way)."""
        await self.engine.seal()
        await self.engine.holds().sweep()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed connect leaves the app running with the store marked unavailable."""
        if event.worker.group == FOLLOW_GROUP and event.state is WorkerState.ERROR:
            self._follow_failed(event.worker.error or RuntimeError("unknown"))
            return
        if event.worker.group == "seal" and event.state is WorkerState.ERROR:
            title, message = describe_failure(event.worker.error or RuntimeError("unknown"))
            self.notify(
                f"{message}\nBalances stay exact (read live); sealing is tried again in "
                f"{self.seal_every:.0f} s.",
                title=f"Background sealing failed ({title})",
                severity="warning",
                timeout=8,
            )
            return
        if event.worker.group == "connect" and event.state is WorkerState.ERROR:
            self.connection = "unavailable"
            if isinstance(event.worker.error, AccessDenied):
                self.push_screen(LoginPrompt(str(event.worker.error)), self._logged_in)
            elif event.worker.error is not None:
                self.report_failure(event.worker.error)

    def _logged_in(self, answer: tuple[str, str] | None) -> None:
        """Connect again with what was typed at the login prompt (escape: stay unavailable)."""
        if answer is None:
            self.notify("not logged in — press ctrl+r to try again", title="Access denied", severity="error")
            return
        self.engine.use_credentials(*answer)
        self.connection = "connecting"
        self.connect_store()

    @on(LedgerChanged)
    def _refresh_after_change(self, message: LedgerChanged) -> None:
        """This console wrote: forget the accounts and let every screen refresh what it shows."""
        if message.transaction_id is not None and self._live is not None:
            self._live.posted(message.transaction_id)
        self.context.accounts.invalidate()
        for screen in self._mounted_screens():
            screen.ledger_changed()

    def _mounted_screens(self) -> list[LedgerScreen]:
        return [screen for screen in self._screens if screen.has_mounted]

    # -- following the ledger live -----------------------------------------------------------

    def _start_live(self) -> None:
        """Follow the change feed (again, from where it stopped) and check the publishers."""
        if self._live is not None:
            if self._follow_retry is not None:
                self._follow_retry.stop()
            self.follow_changes()
            self._publishers_tick()

    @work(exclusive=True, group=FOLLOW_GROUP, exit_on_error=False)
    async def follow_changes(self) -> None:
        """Read sets as they are committed (from "now" the first time); each page of new ones is a
        ``SetsCommitted``. A failure ends the worker: it is reported and tried again later."""
        assert self._live is not None
        async for fresh, resumed in self._live.follow(self.engine.changes()):
            if resumed:
                self.notify("Sets committed elsewhere show again.", title="Live updates resumed")
                self._update_sub_title()
            if fresh:
                self.post_message(SetsCommitted(fresh))

    def _follow_failed(self, error: BaseException) -> None:
        """Say so the first time, mark the header, and try again after a growing delay."""
        assert self._live is not None
        first = not self._live.paused
        delay = self._live.failed()
        if first:
            title, message = describe_failure(error)
            self.notify(
                paused_notice(message, delay), title=f"Live updates paused ({title})", severity="warning"
            )
        self._update_sub_title()
        self._follow_retry = self.set_timer(delay, self.follow_changes)

    @on(SetsCommitted)
    def _take_in_sets(self, message: SetsCommitted) -> None:
        """Sets committed elsewhere: new accounts are listed again, and each screen shows what they touch."""
        addresses = {leg.address for change in message.changes for leg in change.transaction.legs}
        if not self.context.accounts.knows(addresses):
            self.context.accounts.invalidate()
        for screen in self._mounted_screens():
            screen.sets_committed(message.changes)

    def _publishers_tick(self) -> None:
        if self.connection == "connected" and not self._group_running(PUBLISHERS_GROUP):
            self.check_publishers()

    def _group_running(self, group: str) -> bool:
        return any(worker.group == group and worker.is_running for worker in self.workers)

    @work(group=PUBLISHERS_GROUP, exit_on_error=False)
    async def check_publishers(self) -> None:
        """How far behind each publisher's saved cursor is (a failure keeps the last view: the
        follower reports a failing store)."""
        self.post_message(PublishersChecked(await with_timeout(self.engine.changes().publishers())))

    @on(PublishersChecked)
    def _publishers_checked(self, message: PublishersChecked) -> None:
        """Show who is behind in the header; a publisher behind that stopped moving is a notice."""
        for notice in self._publishers.update(message.lags, monotonic()):
            self.notify(notice, title="Publisher stalled", severity="warning", timeout=12)
        self._update_sub_title()

    def watch_connection(self, connection: Connection) -> None:
        """Tell the screens (through their context) and keep the header's store line current."""
        self.context.connection = connection
        self._update_sub_title()

    def _update_sub_title(self) -> None:
        info = self.engine.info
        target = self.store_label if self.store_label is not None else info.target
        details = " ".join(f"{key}={value}" for key, value in sorted(info.details.items()))
        parts = [f"{info.kind} {target}", details, self.connection, *self._publishers.status()]
        if self._live is not None and self._live.paused:
            parts.append("live updates paused")
        self.sub_title = " · ".join(part for part in parts if part)

    # -- failures ----------------------------------------------------------------------------

    @on(CallFailed)
    def _call_failed(self, message: CallFailed) -> None:
        """A screen, widget or dialog could not finish a call: say why."""
        self.report_failure(message.error)

    def report_failure(self, error: BaseException) -> None:
        """Show ``error`` as an error notice; a store failure also marks the store unavailable."""
        if isinstance(error, StoreUnavailable):
            self.connection = "unavailable"
        title, message = describe_failure(error)
        self.notify(message, title=title, severity="error", timeout=12)

    def action_retry(self) -> None:
        """Reconnect when the store is down, else repeat the current screen's query."""
        self.context.accounts.invalidate()
        if self.connection != "connected":
            self.connection = "connecting"
            self._retry_after_connect = self.screen if isinstance(self.screen, LedgerScreen) else None
            self.connect_store()
        elif isinstance(self.screen, LedgerScreen):
            self.screen.retry()

    # -- navigation --------------------------------------------------------------------------

    def action_next_field(self) -> None:
        """Tab: a field keeps its completion (once its queued keys are in); the focus moves on now."""
        field = self.focused
        if isinstance(field, LedgerInput) and field.complete_on_tab:
            field.after_pending_keys(field.accept_completion)
        self.screen.focus_next()

    def action_previous_field(self) -> None:
        """Shift+Tab: back one field."""
        self.screen.focus_previous()

    def action_help(self) -> None:
        """Open the key reference (not on top of itself)."""
        if isinstance(self.screen, HelpScreen):
            return
        sections: list[tuple[str, list[BindingType]]] = [("Everywhere", list(self.BINDINGS))]
        sections.append(("Everywhere (Textual)", [Binding("ctrl+p", "command_palette", "Command palette")]))
        for mode, screen_class in (
            ("compose", ComposeScreen),
            ("browse", BrowseScreen),
            ("chart", ChartScreen),
            ("trial", TrialBalanceScreen),
        ):
            sections.append((SCREEN_TITLES[mode], list(screen_class.BINDINGS)))
        self.push_screen(HelpScreen(sections))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Palette entries for every screen, the app's actions and the current screen's actions."""
        for mode, name in SCREEN_TITLES.items():
            yield SystemCommand(
                f"Go to {name}", f"Switch to the {name} screen", partial(self.switch_mode, mode)
            )
        yield SystemCommand("Help", "List every key", self.action_help)
        yield SystemCommand(
            "Retry / reconnect", "Reconnect to the store or repeat the query", self.action_retry
        )
        if isinstance(screen, LedgerScreen):
            for item in screen.BINDINGS:
                if isinstance(item, Binding) and item.description:
                    yield SystemCommand(
                        f"{screen.title or ''}: {item.description}",
                        f"key {item.key}",
                        partial(screen.run_action, item.action),
                    )
        yield from super().get_system_commands(screen)

    # -- finding accounts ----------------------------------------------------------------------

    def action_find_account(self) -> None:
        """Open the account finder (not on top of itself); enter there opens the account in browse."""
        if isinstance(self.screen, AccountFinder):
            return

        def chosen(address: Address | None) -> None:
            if address is not None:
                self.post_message(AccountPicked(address))

        self.push_screen(AccountFinder(self.context), chosen)

    @on(AccountPicked)
    async def _show_account(self, message: AccountPicked) -> None:
        """Show the account in browse (all dates unless the message names a range)."""
        await self.switch_mode("browse")
        browse = self.screen
        if isinstance(browse, BrowseScreen):
            browse.show_account(message.address, message.time_range)
