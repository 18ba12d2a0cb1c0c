"""The entries table's columns and cells, wide and narrow.

Narrow: the side is the amount's sign (the balance's own rule: credits add, debits subtract) and
the line under the table names the cursor row's id, so the description keeps some room.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.widgets import DataTable

from ...domain.model import Entry, Side
from ...domain.money import Currencies
from ..widgets.formatting import instant_text, money_text, short_id


def add_entry_columns(table: DataTable[str | Text], *, narrow: bool) -> None:
    """The columns of the entries table."""
    table.add_column("Effective (UTC)", key="effective")
    if narrow:
        table.add_column("+Cr/−Dr", key="amount")
    else:
        table.add_column("Side", key="side")
        table.add_column("Amount", key="amount")
    table.add_column("Balance", key="balance")
    if not narrow:
        table.add_column("Transaction", key="transaction")
    table.add_column("Description", key="description")


def entry_cells(entry: Entry, balance: Decimal, currencies: Currencies, *, narrow: bool) -> list[str | Text]:
    """One row: ``entry`` and the account's balance after it."""
    currency = entry.address.currency
    amount = money_text(entry.amount, currency, currencies)
    if narrow:
        sign = "+" if entry.side is Side.CREDIT else "−"
        cells: list[str | Text] = [instant_text(entry.effective_at), Text(sign + amount, justify="right")]
    else:
        cells = [instant_text(entry.effective_at), entry.side.value, Text(amount, justify="right")]
    cells.append(Text(money_text(balance, currency, currencies), justify="right"))
    if not narrow:
        cells.append(short_id(entry.transaction_id))
    cells.append(entry.description)
    return cells
