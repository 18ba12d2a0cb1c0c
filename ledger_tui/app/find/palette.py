"""The command palette finds accounts: ctrl+p, type part of an address, enter opens it in browse.

Matches come from the app's cached account index (filtered in memory, at most
``PALETTE_MATCHES`` listed), never from a store read per keystroke.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ...domain.errors import LedgerError
from ..failures import with_timeout
from ..ledger_screen import console_context
from ..messages import AccountPicked

PALETTE_MATCHES = 20


class AccountCommands(Provider):
    """Palette hits for accounts whose address contains every typed word."""

    async def search(self, query: str) -> Hits:
        """The best matching accounts (nothing while the store is down)."""
        context = console_context(self.app)
        if not context.store_is_ready or not query.strip():
            return
        try:
            index = await with_timeout(context.accounts.index(context.engine))
        except (LedgerError, TimeoutError):
            return  # the palette is no place for a failure notice; browse and ctrl+r report it
        matcher = self.matcher(query)
        found = index.search(query, PALETTE_MATCHES)
        for position, address in enumerate(found.addresses):
            text = str(address)
            yield Hit(
                1.0 - position / (2 * PALETTE_MATCHES),
                matcher.highlight(text),
                partial(self.app.post_message, AccountPicked(address)),
                text=text,
                help="Open this account in browse",
            )

    async def discover(self) -> Hits:
        """With nothing typed: the finder itself."""
        yield DiscoveryHit(
            "Find account…",
            partial(self.app.run_action, "find_account"),
            help="Search every account by its address",
        )
