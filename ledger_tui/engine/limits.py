"""The ledger's account limits: set, cleared and listed with who and when, read for display.

Why here: the limits live in the ledger (every writer enforces the same ones, in the store's own
write), and a change is a new record of the history, never an edit (docs/limits.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from ..domain.blocks import SealPolicy
from ..domain.errors import NotFound, ValidationError
from ..domain.legs import description_problem
from ..domain.limits import (
    MAX_ACTOR,
    Head,
    Limit,
    LimitChange,
    current_limits,
    make_limit,
    parse_bound,
    parse_limit_pattern,
)
from ..domain.model import Address
from ..domain.money import Currencies, CurrencyError
from ..domain.timeutil import truncate_to_ms
from ..store.base import Store


def _actor(changed_by: str) -> str:
    """Who made a change, checked like any text a user can type."""
    problem = description_problem(changed_by) if changed_by.strip() else "must not be empty"
    if problem is None and len(changed_by) > MAX_ACTOR:
        problem = f"is longer than {MAX_ACTOR} characters"
    if problem:
        raise ValidationError.single("changed_by", problem)
    return changed_by


class LimitBook:
    """Set, clear and list limits; read the bounded accounts' heads."""

    def __init__(
        self,
        store: Store,
        currencies: Currencies,
        clock: Callable[[], datetime],
        policy: Callable[[], Awaitable[SealPolicy]],
    ) -> None:
        self._store, self._currencies, self._clock, self._policy = store, currencies, clock, policy

    async def history(self) -> list[LimitChange]:
        """Every change ever made, oldest first."""
        return await self._store.read_limit_history()

    async def current(self) -> list[Limit]:
        """The limits in force, most specific first."""
        return list(current_limits(await self.history()))

    async def set(
        self, pattern_text: str, minimum: object | None, maximum: object | None, changed_by: str
    ) -> LimitChange:
        """Bound the accounts ``pattern_text`` selects (replacing the pattern's earlier limit)."""
        pattern = parse_limit_pattern(pattern_text)
        try:
            self._currencies.digits(pattern.currency)
        except CurrencyError as error:
            raise ValidationError.single("pattern.currency", str(error)) from None
        low = None if minimum is None else parse_bound(minimum, "min", pattern.currency, self._currencies)
        high = None if maximum is None else parse_bound(maximum, "max", pattern.currency, self._currencies)
        change = LimitChange(make_limit(pattern, low, high), _actor(changed_by), self._now())
        return await self._store.change_limit(change, await self._policy())

    async def clear(self, pattern_text: str, changed_by: str) -> LimitChange:
        """Remove the pattern's limit (recorded as a change with no bounds)."""
        pattern = parse_limit_pattern(pattern_text)
        if all(limit.pattern != pattern for limit in await self.current()):
            raise NotFound(f"no limit on {pattern}")
        change = LimitChange(Limit(pattern, None, None), _actor(changed_by), self._now())
        return await self._store.change_limit(change, await self._policy())

    async def heads(self, accounts: Sequence[Address]) -> dict[Address, Head]:
        """Balance, pending totals and available of the bounded ones among ``accounts``."""
        return await self._store.read_heads(accounts, self._now())

    def _now(self) -> datetime:
        return truncate_to_ms(self._clock().astimezone(UTC))
