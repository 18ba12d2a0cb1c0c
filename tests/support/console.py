"""Fixed ledger data and app builders for the console tests: same ids, times and text every run."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerFailed

from ledger_tui.app.app import LedgerApp
from ledger_tui.app.browse.account_tree import AccountTree
from ledger_tui.app.browse.screen import BrowseScreen
from ledger_tui.app.compose.draft import LegDraft
from ledger_tui.app.compose.screen import ComposeScreen
from ledger_tui.app.live import FOLLOW_GROUP, LiveOptions
from ledger_tui.app.widgets.dialogs import ConfirmDialog
from ledger_tui.domain.model import Address, Leg, Side
from ledger_tui.domain.parse import build_entry_set
from ledger_tui.domain.timeutil import TimeRange
from ledger_tui.engine import Engine
from ledger_tui.ledger import read_named_balances
from ledger_tui.store.sqlite import SqliteStore

NOW = datetime(2024, 11, 5, 9, 30, tzinfo=UTC)
STORE_LABEL = "test-ledger.sqlite"
SIZE = (120, 40)
#: The smallest terminal the console is laid out for.
SMALL = (80, 24)
#: pytest-textual-snapshot's ``snap_compare`` fixture.
SnapCompare = Callable[..., bool]
#: A balanced two-leg draft the flow tests post.
TOP_UP = [
    LegDraft("fintech_uk", "com.fintech.account", "main", "GBP", "ops", "debit", "10.00", "Test transfer"),
    LegDraft(
        "fintech_uk", "com.fintech.customer", "current", "GBP", "alice", "credit", "10.00", "Test transfer"
    ),
]

OPS_GBP = Address("fintech_uk", "com.fintech.account", "main", "GBP", "ops")
ALICE = Address("fintech_uk", "com.fintech.customer", "current", "GBP", "alice")
CAROL = Address("fintech_uk", "com.fintech.customer", "current", "GBP", "carol")
FEES_GBP = Address("fintech_uk", "com.fintech.revenue", "fees", "GBP", "main")
OPS_EUR = Address("fintech_eu", "com.fintech.account", "main", "EUR", "ops")
BRUNO = Address("fintech_eu", "com.fintech.customer", "current", "EUR", "bruno")
FEES_EUR = Address("fintech_eu", "com.fintech.revenue", "fees", "EUR", "main")


def fixed_id(number: int) -> uuid.UUID:
    """A readable, fixed UUID (version 4 layout) for test transactions."""
    return uuid.UUID(f"00000000-0000-4000-8000-{number:012d}")


def draft_ids(start: int = 900) -> Callable[[], uuid.UUID]:
    """A deterministic stand-in for uuid4 for the compose screen's draft ids."""
    counter: Iterator[int] = itertools.count(start)
    return lambda: fixed_id(next(counter))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


SETS: list[tuple[int, str, Address, Address, str, str]] = [
    (1, "2024-08-15T10:00:00", OPS_GBP, ALICE, "1000.00", "Alice deposit"),
    (2, "2024-09-03T12:30:00", ALICE, FEES_GBP, "120.50", "Card fee"),
    (3, "2024-09-20T08:15:00", OPS_EUR, BRUNO, "800.00", "Bruno deposit"),
    (4, "2024-10-10T09:00:00", OPS_GBP, ALICE, "300.00", "Salary"),
    (5, "2024-10-22T16:45:00", BRUNO, FEES_EUR, "45.99", "FX fee"),
    (6, "2024-11-01T07:05:00", ALICE, FEES_GBP, "75.25", "Account fee"),
]


def new_engine(path: Path, *, named: bool = True) -> Engine:
    """An engine over a SQLite file with a fixed clock and the sample named balances."""
    balances = read_named_balances(None) if named else {}
    return Engine(SqliteStore(path), clock=lambda: NOW, named_balances=balances)


async def post_sample(engine: Engine) -> None:
    """Post the fixed entry sets (each debits one account and credits another)."""
    for number, when, debit, credit, amount, description in SETS:
        effective = _at(when)
        legs = [
            Leg(debit, Side.DEBIT, Decimal(amount), description, effective),
            Leg(credit, Side.CREDIT, Decimal(amount), description, effective),
        ]
        await engine.post(build_entry_set(fixed_id(number), legs))


async def post_many(engine: Engine, count: int) -> None:
    """``count`` small entry sets on one GBP account, one per hour, for paging tests."""
    for index in range(count):
        effective = datetime(2024, 10, 1, tzinfo=UTC).replace(hour=index % 24, day=1 + index // 24)
        amount = Decimal(index + 1).scaleb(-2) + 1
        legs = [
            Leg(OPS_GBP, Side.DEBIT, amount, f"bulk {index:03d}", effective),
            Leg(ALICE, Side.CREDIT, amount, f"bulk {index:03d}", effective),
        ]
        await engine.post(build_entry_set(fixed_id(10_000 + index), legs))


def make_ledger(path: Path, *, data: bool = True) -> Path:
    """Create a SQLite ledger file (with the fixed data) outside any app, for snapshot tests."""

    async def build() -> None:
        engine = new_engine(path)
        await engine.connect()  # the embedded store creates its schema
        if data:
            await post_sample(engine)
        await engine.close()

    asyncio.run(build())
    return path


def make_app(
    engine: Engine,
    start_screen: str = "compose",
    *,
    seal_every: float | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
    live: LiveOptions | None = None,
    page_size: int | None = None,
) -> LedgerApp:
    """The console as tests run it: fixed clock, ids and store label, no cursor blink, and no
    background sealing or following of the change feed unless a test asks for it."""
    return LedgerApp(
        engine,
        clock=clock,
        start_screen=start_screen,
        store_label=STORE_LABEL,
        cursor_blink=False,
        new_transaction_id=draft_ids(),
        seal_every=seal_every,
        live=live,
        page_size=page_size,
    )


def finite_workers(app: App[Any]) -> list[Worker[Any]]:
    """The app's workers but the change-feed follower (which runs until the app closes)."""
    return [worker for worker in app.workers if worker.group != FOLLOW_GROUP]


async def settle(pilot: Pilot[None], rounds: int = 4) -> None:
    """Let workers finish and their messages (which may start more workers) be handled.

    A worker that failed is not re-raised here: the app turns it into a notice (what the tests
    look at), and which round sees it depends on timing."""
    for _ in range(rounds):
        workers = finite_workers(pilot.app)
        await asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)
        await pilot.pause()


async def post_draft(
    pilot: Pilot[None], drafts: Sequence[LegDraft], *, new_accounts: bool = True
) -> ComposeScreen:
    """On the compose screen: replace the draft with ``drafts``, press ctrl+s, let it settle.

    Posting to accounts the ledger does not have yet asks first; ``new_accounts`` answers yes.
    """
    compose = pilot.app.screen
    assert isinstance(compose, ComposeScreen)
    await compose.set_draft(drafts)
    await pilot.press("ctrl+s")
    await settle(pilot)
    if new_accounts and isinstance(pilot.app.screen, ConfirmDialog):
        await pilot.press("y")
        await settle(pilot)
    return compose


async def type_burst(pilot: Pilot[None], text: str) -> None:
    """Send every character of ``text`` (tab, newline, ESC as those keys) at once, faster than anyone types,
    then wait until the app has handled them all."""
    driver = pilot.app._driver
    assert driver is not None
    for character in text:
        if character == "\t":
            key, char = "tab", "\t"
        elif character == "\n":
            key, char = "enter", "\r"
        elif character == "\x1b":
            key, char = "escape", "\x1b"
        else:
            key, char = (character if character.isalnum() else _character_to_key(character)), character
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)
    for _ in range(200):  # until the queue is drained: a pause with nothing left to handle
        await pilot.pause()
        if pilot.app._message_queue.empty() and pilot.app.screen._message_queue.empty():
            break
    await settle(pilot)


def receipt_text(screen: Screen[Any]) -> str:
    """The compose screen's receipt line as shown."""
    return str(screen.query_one("#receipt", Static).render())


def table_rows(screen: Screen[Any], selector: str) -> list[list[str]]:
    """Every row of the table ``selector`` on ``screen``, cells as shown."""
    table: DataTable[object] = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def descriptions(app: LedgerApp) -> list[str]:
    table: DataTable[object] = app.screen.query_one("#entries", DataTable)
    return [str(cell) for cell in table.get_column("description")]


async def settle_through_failures(pilot: Pilot[None]) -> None:
    """Like ``settle``, for tests whose workers fail on purpose (waiting on one re-raises its error)."""
    for _ in range(4):
        workers = finite_workers(pilot.app)
        if workers:  # (none: wait_for_complete would wait for every worker)
            with contextlib.suppress(WorkerFailed):
                await pilot.app.workers.wait_for_complete(workers)
        await pilot.pause()


def error_notices(app: LedgerApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications if n.severity == "error"]


def notices(app: LedgerApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def column(app: LedgerApp, key: str, selector: str = "#entries") -> list[str]:
    table: DataTable[object] = app.screen.query_one(selector, DataTable)
    return [str(cell) for cell in table.get_column(key)]


def static_text(app: LedgerApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def panel_text(app: LedgerApp) -> str:
    return str(app.screen.query_one("#partition-panel", Static).render())


async def show_alice(app: LedgerApp, pilot: Pilot[None], time_range: TimeRange = TimeRange()) -> BrowseScreen:
    await settle(pilot)
    browse = app.screen
    assert isinstance(browse, BrowseScreen)
    browse.set_range(time_range)
    browse.show_entries(ALICE)
    await settle_through_failures(pilot)
    return browse


async def show_in_browse(
    app: LedgerApp, pilot: object, address: Address, time_range: TimeRange = TimeRange()
) -> BrowseScreen:
    await settle(pilot)  # type: ignore[arg-type]
    browse = app.screen
    assert isinstance(browse, BrowseScreen)
    browse.set_range(time_range)
    browse.show_entries(address)
    await settle(pilot)  # type: ignore[arg-type]
    return browse


def browse_screen(pilot: Pilot[None]) -> BrowseScreen:
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen), screen
    return screen


def tree_cursor_path(screen: BrowseScreen) -> tuple[str, ...] | None:
    node = screen.query_one(AccountTree).cursor_node
    return None if node is None or node.data is None else node.data.path


CUSTOMER_PREFIX = ("bank_uk", "com.bank.customer", "current", "GBP")


FLOAT = Address("bank_uk", "com.bank.treasury", "float", "GBP", "main")


def customer(name: str) -> Address:
    return Address(*CUSTOMER_PREFIX, name)


async def post_customers(engine: Engine, names: list[str]) -> None:
    """One deposit from the float to each customer account."""
    for number, name in enumerate(names):
        when = datetime(2024, 10, 1 + number % 28, tzinfo=UTC)
        legs = [
            Leg(FLOAT, Side.DEBIT, Decimal("5.00"), "deposit", when),
            Leg(customer(name), Side.CREDIT, Decimal("5.00"), "deposit", when),
        ]
        await engine.post(build_entry_set(fixed_id(500 + number), legs))


async def chart_closings(app: LedgerApp) -> list[str]:
    rows = table_rows(app.screen, "#chart-table")
    return [row[4] for row in rows if row[1] == "GBP"]


def press_keys(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


#: Following the change feed as fast as a test wants: reads every 50 ms, publishers every 0.2 s.
FAST_LIVE = LiveOptions(poll=0.05, publishers_every=0.2, stall_after=0.6, retry_first=0.1, retry_most=0.2)


def recorded_notices(app: LedgerApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every notice ``app`` shows from now on as ``title: message``, kept after it times out (a
    slow machine may not look before a notice's few seconds are over)."""
    shown: list[str] = []
    real = app.notify

    def notify(message: str, *, title: str = "", **options: Any) -> None:
        shown.append(f"{title}: {message}")
        real(message, title=title, **options)

    monkeypatch.setattr(app, "notify", notify)
    return shown


async def until(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (fails after ``seconds``; it takes well under a
    second on an idle machine)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not met in time"
        await pilot.pause(0.05)


async def commit_elsewhere(
    engine: Engine,
    number: int,
    debit: Address,
    credit: Address,
    amount: str,
    description: str,
    when: datetime,
) -> None:
    """Post one two-leg set through ``engine``: another process's engine on the console's ledger."""
    legs = [
        Leg(debit, Side.DEBIT, Decimal(amount), description, when),
        Leg(credit, Side.CREDIT, Decimal(amount), description, when),
    ]
    await engine.post(build_entry_set(fixed_id(number), legs))
