"""An Input that follows the app's cursor-blink setting and can act after the keys sent to it.

Keys reach the focused widget through its message queue, while a binding such as Tab runs as
soon as the app reads the key. When the app is behind, characters typed before a Tab are
still queued in the old field when the focus moves; anything that must see the field's final
text (accepting a completion, reading a date on enter) therefore queues behind them here.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input


class LedgerInput(Input):
    """Input whose cursor blinks only when the app allows it (tests switch blinking off).

    Textual's Input sets its virtual size (text length + 1) on every keystroke, and a virtual
    size is a layout property, so each key re-laid out the whole screen: ~4x a bare form's cost
    per key on compose. A one-line input's virtual size only bounds its own horizontal scroll,
    never its box, so here it repaints the input instead.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), repaint=True)

    class AfterKeys(Message, bubble=False):
        """Run ``callback`` once the keys queued before this message were handled."""

        def __init__(self, callback: Callable[[], object]) -> None:
            super().__init__()
            self.callback = callback

    def __init__(self, *args: object, complete_on_tab: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.complete_on_tab = complete_on_tab

    def on_mount(self) -> None:
        """Copy the app-wide blink preference once the app is reachable."""
        self.cursor_blink = bool(getattr(self.app, "cursor_blink", True))

    @property
    def has_pending_keys(self) -> bool:
        """Whether keys sent to this input are still waiting to be handled."""
        return not self._message_queue.empty()

    def after_pending_keys(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` after every key already sent to this input."""
        self.post_message(self.AfterKeys(callback))

    def on_ledger_input_after_keys(self, message: AfterKeys) -> None:
        """The keys before ``message`` are in: run its callback."""
        message.callback()

    def accept_completion(self) -> None:
        """Take the completion of the value as it is now (what the suggestion shows)."""
        complete = getattr(self.suggester, "complete_now", None)
        if complete is None:
            return
        completed = complete(self.value)
        if completed and completed != self.value:
            self.value = completed
            self.cursor_position = len(completed)
