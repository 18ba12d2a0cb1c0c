"""Open an account in browse from anywhere (the finder, the palette, the trial balance).

Browse shows the account's entries in the given range and walks its tree open to the account,
loading levels and paging past 'more…' as needed.
"""

from __future__ import annotations

from textual.app import App

from ..domain.model import Address
from ..domain.timeutil import TimeRange
from .account_tree import AccountTree
from .browse_screen import BrowseScreen


async def open_in_browse(app: App[None], address: Address, time_range: TimeRange | None = None) -> None:
    """Switch to browse showing ``address`` (all dates unless ``time_range``), tree cursor on it."""
    await app.switch_mode("browse")
    screen = app.screen
    if not isinstance(screen, BrowseScreen):
        return
    screen.set_range(time_range or TimeRange())
    screen.show_entries(address)
    tree = screen.query_one(AccountTree)
    tree.reveal(address)
    tree.focus()
