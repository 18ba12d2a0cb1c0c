"""Pages of results and opaque resume tokens, shared by stores, the engine and every face.

They live in the domain because they are plain data: the console keeps tokens to page back
and forth without ever importing a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class PageToken:
    """Opaque resume point of a paged read; holds reader state that is never shown or logged."""

    __slots__ = ("_state",)

    def __init__(self, state: object) -> None:
        self._state = state

    @property
    def state(self) -> object:
        """The reader's private resume state (only the reader that made it should read it)."""
        return self._state

    def __repr__(self) -> str:
        return "PageToken(<opaque>)"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the token of the next page (None at the end)."""

    items: list[T]
    next_token: PageToken | None = None
