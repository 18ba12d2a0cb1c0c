"""The From/To date inputs of a screen, read as one half-open UTC range, and an optional As of.

Browse and chart both filter by dates typed the same way (ISO 8601 or epoch ms, blank for
open-ended), so the parsing and the row live in one widget; what a range means (a page of
entries, a chart) stays with the screen, which hears about it through messages. "As of" is a
recorded time (what the ledger showed then), typed the same way.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label

from ...domain.timeutil import TimeRange, parse_instant
from .formatting import date_text
from .ledger_input import LedgerInput

DATE_HINT = "YYYY-MM-DD"


class RangeBar(Horizontal):
    """'From [date] To [date]' then any extra widgets; enter in a date submits the range."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH
    # Priority: the focus leaves the dates when the key is read, so keys typed after enter or
    # escape are never typed into a date, however far behind the app is.
    BINDINGS = [
        Binding("enter", "submit_dates", "Apply the dates", show=False, priority=True),
        Binding("escape", "leave", "Leave the dates", show=False, priority=True),
    ]

    class Left(Message):
        """Escape in a date: the screen moves the focus back to what it shows."""

    class RangeSubmitted(Message):
        """Enter was pressed in a date and both dates parsed into ``time_range`` (and ``as_of``,
        the recorded time to read the ledger as of, when the bar has that field and it is filled)."""

        def __init__(self, time_range: TimeRange, as_of: datetime | None = None) -> None:
            super().__init__()
            self.time_range = time_range
            self.as_of = as_of

    class RangeRejected(Message):
        """Enter was pressed in a date that does not parse (or To is before From): ``reason`` says why."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(
        self,
        *extras: Widget,
        time_range: TimeRange = TimeRange(),
        id: str | None = None,
        end_label: str = "To",
        with_as_of: bool = False,
    ) -> None:
        """``extras`` follow the dates in the row (children given to a container would go first);
        ``end_label`` names the end (browse says it is excluded); ``with_as_of`` adds "As of"."""
        super().__init__(id=id)
        self._extras = extras
        self._initial = time_range
        self._end_label = end_label
        self._with_as_of = with_as_of

    def compose(self) -> ComposeResult:
        """Labels and inputs, then the extras."""
        yield Label("From", classes="range-label")
        yield self._date_input(date_text(self._initial.start), "range-from")
        yield Label(self._end_label, classes="range-label")
        yield self._date_input(date_text(self._initial.end), "range-to")
        if self._with_as_of:
            yield Label("As of", classes="range-label")
            yield self._date_input("", "range-as-of")
        yield from self._extras

    @staticmethod
    def _date_input(value: str, id: str) -> LedgerInput:
        return LedgerInput(value, placeholder=DATE_HINT, id=id, classes="range-date", compact=True)

    @property
    def _start(self) -> Input:
        return self.query_one("#range-from", Input)

    @property
    def _end(self) -> Input:
        return self.query_one("#range-to", Input)

    @property
    def _dates(self) -> tuple[Input, ...]:
        return tuple(self.query(".range-date").results(Input))

    def set_range(self, time_range: TimeRange) -> None:
        """Show ``time_range`` in the inputs (posts nothing: the caller applies it)."""
        self._start.value = date_text(time_range.start)
        self._end.value = date_text(time_range.end)

    @property
    def is_bounded(self) -> bool:
        """Whether both dates are filled in (a chart needs both; browse allows open ends)."""
        return bool(self._start.value.strip() and self._end.value.strip())

    def read_range(self) -> TimeRange:
        """The typed range; raises ValueError with the reason when a date is bad or To precedes From."""
        return TimeRange(self._bound(self._start), self._bound(self._end))

    @staticmethod
    def _bound(field: Input) -> datetime | None:
        text = field.value.strip()
        return parse_instant(text) if text else None

    def read_as_of(self) -> datetime | None:
        """The typed As of (None when blank or the bar has no such field); raises ValueError."""
        fields = self.query("#range-as-of").results(Input)
        for field in fields:
            try:
                return self._bound(field)
            except ValueError as error:
                raise ValueError(f"As of: {error}") from None
        return None

    def clear_as_of(self) -> None:
        """Empty the As of field (posts nothing: the caller applies it)."""
        for field in self.query("#range-as-of").results(Input):
            field.value = ""

    def focus_start(self) -> None:
        """Put the cursor in From."""
        self._start.focus()

    def _date_focused(self) -> LedgerInput:
        focused = self.screen.focused
        if not isinstance(focused, LedgerInput) or focused not in self._dates:
            raise SkipAction()  # an extra (a select, a button) handles its own keys
        return focused

    def action_leave(self) -> None:
        """Escape: give the keys back to the screen (dates stay as typed until enter)."""
        self._date_focused()
        self.screen.set_focus(None)
        self._tell_screen(self.Left())

    def action_submit_dates(self) -> None:
        """Enter in a date: leave the dates now, read them once the keys typed into them are in."""
        field = self._date_focused()
        self.screen.set_focus(None)
        if field.has_pending_keys:
            field.after_pending_keys(self._submit)
        else:
            self._submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """An input's own submit (not through the key binding): read the dates."""
        if event.input not in self._dates:
            return  # an extra's own input: the screen decides
        event.stop()
        self._submit()

    def _submit(self) -> None:
        """Post the range, or why it cannot be read."""
        try:
            time_range = self.read_range()
            as_of = self.read_as_of()
        except ValueError as error:
            self._tell_screen(self.RangeRejected(str(error)))
            return
        self._tell_screen(self.RangeSubmitted(time_range, as_of))

    def _tell_screen(self, message: Message) -> None:
        """Straight into the screen's queue: ahead of any key the operator pressed after this one."""
        self.screen.post_message(message)
