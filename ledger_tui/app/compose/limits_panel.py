"""The bounded accounts a draft touches: what each has available, its bound, and what the draft
would leave; a draft that would break a bound is named here before ctrl+s.

Why only a forecast: another writer may move the account between this read and the post, so the
store's check at the write decides (a refusal then is a notice); this spares the operator a post
that is bound to be refused, and shows what is left to spend while typing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from textual import work
from textual.message import Message
from textual.widgets import Static

from ...domain.limits import Head, LimitExceeded, Limits, check_limits, net_movement
from ...domain.model import Address, Leg
from ...domain.money import Currencies
from ...engine import Engine
from ..failures import with_timeout
from ..widgets.formatting import money_text

GROUP = "compose-limits"


def forecast(
    legs: Sequence[Leg], limits: Limits, heads: dict[Address, Head], currencies: Currencies
) -> tuple[list[str], str | None]:
    """A line per bounded account of ``legs``, and the first refusal the draft would meet."""
    lines: list[str] = []
    breaking: str | None = None
    for account, limit in limits.bounded(legs).items():
        head = heads.get(account, Head())
        own = [leg for leg in legs if leg.address == account]
        debits, credits = net_movement(own, account)

        def shown(amount: Decimal, code: str = account.currency) -> str:
            return money_text(amount, code, currencies)

        try:
            check_limits(own, Limits([limit]), {account: head})
            verdict = f"after this set {shown(head.moved(debits, credits).available)}"
        except LimitExceeded as error:
            side = "below its minimum" if error.bound == "min" else "above its maximum"
            verdict = f"[b]would go {side}[/b]"
            breaking = breaking or str(error)
        bounds = (("min", limit.minimum), ("max", limit.maximum))
        shown_bounds = " ".join(f"{name} {shown(value)}" for name, value in bounds if value is not None)
        lines.append(f"{account}  available {shown(head.available)} · {shown_bounds} · {verdict}")
    return lines, breaking


class LimitsPanel(Static):
    """Hidden until a draft touches a bounded account; then a line for each."""

    DEFAULT_CSS = """
    LimitsPanel { height: auto; display: none; margin-top: 1; color: $text-muted; }
    LimitsPanel.-shown { display: block; }
    LimitsPanel.-breaks { color: $text-error; }
    """

    class Forecast(Message):
        """What the bounded accounts of the draft would be left with (the panel's worker result)."""

        def __init__(self, lines: list[str], breaking: str | None) -> None:
            super().__init__()
            self.lines, self.breaking = lines, breaking

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._engine = engine
        self.breaking: str | None = None

    def check(self, legs: Sequence[Leg]) -> None:
        """Read the limits and heads for ``legs`` (complete legs only) and show the forecast."""
        self._read(list(legs))

    @work(exclusive=True, group=GROUP, exit_on_error=False)
    async def _read(self, legs: list[Leg]) -> None:
        book = self._engine.limits()
        limits = Limits(await with_timeout(book.current())) if legs else Limits()
        bounded = list(limits.bounded(legs))
        heads = await with_timeout(book.heads(bounded)) if bounded else {}
        self.post_message(self.Forecast(*forecast(legs, limits, heads, self._engine.currencies)))

    def on_limits_panel_forecast(self, message: Forecast) -> None:
        """Show the lines (or hide), and remember whether the draft would be refused."""
        message.stop()
        self.breaking = message.breaking
        self.update("\n".join(message.lines))
        self.set_class(bool(message.lines), "-shown")
        self.set_class(message.breaking is not None, "-breaks")
