"""Entry sets as an hledger journal, so an independent engine can check and report the books.

Why this shape: one transaction per entry set (its id as the code, its recording time as a
tag), a posting per leg in the currency's precision, dated by the leg's effective day where it
differs, so hledger cuts the books by date exactly where ours do. Leg descriptions stay out of
posting comments, where a "date:" in them would move the posting.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from .model import Address, RecordedTransaction, Side
from .money import Currencies, quantize

#: Characters an hledger account name part cannot carry as they are (':' separates parts, ';'
#: starts a comment, two spaces end the account name, '%' is our escape).
_UNSAFE = re.compile(r"[%:;\t\r\n()\[\]]|(?<= ) |^ | $")


def _part(text: str) -> str:
    """An address part as one account name part, escaped reversibly (percent-encoding)."""
    escaped = _UNSAFE.sub(lambda found: "".join(f"%{byte:02X}" for byte in found.group().encode()), text)
    return escaped or "%00"  # an empty part would merge two levels


def account_name(address: Address) -> str:
    """The hledger account of an address: its five parts, legal entity first."""
    return ":".join(_part(part) for part in address.as_tuple())


def _day(instant: datetime) -> str:
    return instant.astimezone(UTC).date().isoformat()


def _comment(text: str) -> str:
    """Text on one line of printable characters (a journal comment ends at the line's end)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def journal_transaction(transaction: RecordedTransaction, currencies: Currencies) -> str:
    """One entry set as a journal transaction (with its trailing blank line)."""
    entries = transaction.entries()
    day = min(_day(entry.effective_at) for entry in entries)
    description = _comment(next((e.description for e in entries if e.description), "")) or "entry set"
    lines = [
        f"{day} ({transaction.transaction_id}) {description}",
        f"    ; recorded: {transaction.recorded_at.astimezone(UTC).isoformat(timespec='milliseconds')}",
    ]
    for entry in entries:
        amount = entry.amount if entry.side is Side.DEBIT else -entry.amount
        posting = f"    {account_name(entry.address)}  {_amount(amount, entry.address.currency, currencies)}"
        if _day(entry.effective_at) != day:  # the only tag a posting carries: a leg's text there
            posting += f"  ; date:{_day(entry.effective_at)}"  # could hold "date:" and move it
        lines.append(posting)
    return "\n".join(lines) + "\n\n"


def _amount(amount: Decimal, code: str, currencies: Currencies) -> str:
    return f"{format(quantize(amount, currencies.quantum(code)), 'f')} {code}"


JOURNAL_HEADER = "; the books of a ledger-tui ledger: one transaction per entry set, in commit order\n\n"


def commodity_directives(codes: set[str], currencies: Currencies) -> str:
    """Each currency's display precision (hledger applies them to the whole journal, so they
    may follow the transactions a streamed export has already written)."""
    lines = []
    for code in sorted(codes):
        number, _, _ = _amount(Decimal(0), code, currencies).partition(" ")
        sample = number if "." in number else number + "."  # hledger wants the decimal mark shown
        lines.append(f"commodity {sample} {code}\n")
    return "".join(lines)
