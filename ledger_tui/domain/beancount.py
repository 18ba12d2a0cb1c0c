"""Entry sets as a Beancount ledger, so ``bean-check`` and Beancount's reports can check our books.

Why this shape: Beancount dates transactions, not postings, so a set whose legs fall on several
days becomes one transaction per day, each balanced through ``Equity:Transit``; every piece
carries the set's id (metadata and link), so nothing is lost. Accounts are the address, escaped
reversibly into Beancount's narrow account grammar; amounts are exact in the currency's
precision. docs/beancount-export.md describes the mapping.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal, Inexact, InvalidOperation

from .dump import instant_text, reverses
from .errors import LedgerError
from .model import Address, Entry, RecordedTransaction, Side
from .money import Currencies, CurrencyError, money_sum, quantize

#: Root of every address's account: the ledger has no account classes, and Beancount stores
#: every amount debits-positive whatever the root, so the root only picks a report section.
ROOT = "Assets"
#: Where a set split over several days parks what one day's legs leave unbalanced.
TRANSIT = "Equity:Transit"
#: A component character that stays as it is; anything else is '-' and two hex digits per byte.
_KEPT = re.compile(r"[A-Za-z0-9]")
#: What a component may start with as it is (a leading 'X' marks one that needed a prefix).
_PLAIN_START = re.compile(r"[A-WYZ0-9]")
_ESCAPE = re.compile(r"-([0-9A-F]{2})")
#: Beancount's commodity grammar (v2 and v3 agree on this form): 2-24 characters.
_COMMODITY = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]\Z")
#: Characters a Beancount string literal takes as backslash escapes (its parser undoes them).
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f", "\b": "\\b"}


class BeancountError(LedgerError):
    """Books that cannot be written as Beancount names them (a currency, an amount)."""


def component(part: str) -> str:
    """An address part as one account component (``[A-Z0-9][A-Za-z0-9-]*``), reversibly.

    ASCII letters and digits stay; every other character (``-`` included) becomes ``-`` and
    two upper-case hex digits per UTF-8 byte; a result not starting with a capital other than
    ``X`` or a digit gets an ``X`` in front (so ``fintech_uk`` is ``Xfintech-5Fuk``)."""
    escaped = "".join(
        char if _KEPT.match(char) else "".join(f"-{byte:02X}" for byte in char.encode()) for char in part
    )
    return escaped if _PLAIN_START.match(escaped) else "X" + escaped


def part_of(text: str) -> str:
    """The address part a component came from (the inverse of :func:`component`)."""
    body = text[1:] if text.startswith("X") else text
    out = bytearray()
    position = 0
    for found in _ESCAPE.finditer(body):
        out += body[position : found.start()].encode()
        out.append(int(found.group(1), 16))
        position = found.end()
    out += body[position:].encode()
    return out.decode()


def account(address: Address) -> str:
    """The Beancount account of an address: ``Assets`` and its five parts, legal entity first."""
    return ":".join((ROOT, *map(component, address.as_tuple())))


def address_of(name: str) -> Address:
    """The address an account of :func:`account` names (raises ValueError for any other)."""
    root, *parts = name.split(":")
    if root != ROOT or len(parts) != 5:
        raise ValueError(f"{name!r} is not an address account")
    legal_entity, namespace, part_name, currency, account_id = map(part_of, parts)
    return Address(legal_entity, namespace, part_name, currency, account_id)


def commodity(code: str) -> str:
    """A currency code as a Beancount commodity, or a refusal naming it."""
    if not _COMMODITY.match(code):
        raise BeancountError(
            f"currency {code!r} cannot be a Beancount commodity (2-24 characters: capitals, digits "
            "and ' . _ -, starting with a capital and ending with a capital or digit)"
        )
    return code


def string(text: str) -> str:
    """Text as a Beancount string literal: quoted, with ``\\`` ``"`` and line breaks escaped;
    other control or line-separator characters (Beancount has no escape for them, and the ledger
    refuses them in descriptions) become U+FFFD."""
    return '"' + "".join(_string_char(char) for char in text) + '"'


def _string_char(char: str) -> str:
    if char in _STRING_ESCAPES:
        return _STRING_ESCAPES[char]
    return "\ufffd" if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char


def day(instant: datetime) -> date:
    """The UTC day an instant falls on (the day Beancount dates it by)."""
    return instant.astimezone(UTC).date()


class BeancountBooks:
    """Writes sets as Beancount transactions and remembers what the closing directives need:
    each account's and currency's first day (an account is opened on it, with its currency)."""

    def __init__(self, currencies: Currencies) -> None:
        self._currencies = currencies
        self._opened: dict[str, tuple[date, str]] = {}
        self._first_use: dict[str, date] = {}
        self._transit: dict[str, date] = {}

    def transactions(self, transaction: RecordedTransaction) -> str:
        """One set as one transaction per effective day (each with its trailing blank line)."""
        entries = transaction.entries()
        by_day: dict[date, list[Entry]] = defaultdict(list)
        for entry in entries:
            by_day[day(entry.effective_at)].append(entry)
        narration = next((entry.description for entry in entries if entry.description), "")
        original = reverses(transaction)
        links = f" ^{transaction.transaction_id}" + (f" ^{original}" if original else "")
        head = [
            f"  transaction_id: {string(str(transaction.transaction_id))}",
            f"  recorded_at: {string(instant_text(transaction.recorded_at))}",
        ]
        if original:
            head.append(f"  reverses: {string(str(original))}")
        if len(by_day) > 1:
            head.append(f"  effective_days: {len(by_day)}")
        return "".join(
            self._day_part(when, by_day[when], narration, links, head, transaction) for when in sorted(by_day)
        )

    def _day_part(
        self,
        when: date,
        entries: list[Entry],
        narration: str,
        links: str,
        head: list[str],
        transaction: RecordedTransaction,
    ) -> str:
        lines = [f"{when.isoformat()} * {string(narration)}{links}", *head]
        nets: dict[str, list[Decimal]] = defaultdict(list)
        for entry in entries:
            amount = entry.amount if entry.side is Side.DEBIT else -entry.amount
            code = entry.address.currency
            nets[code].append(amount)
            name = account(entry.address)
            self._note(name, code, when)
            lines.append(f"  {name}  {self._amount(amount, code, transaction, entry.leg_index)}")
            lines.append(f"    leg: {entry.leg_index}")
            if entry.description != narration:
                lines.append(f"    description: {string(entry.description)}")
        for code, amounts in nets.items():
            net = money_sum(amounts)
            if net:  # the set's other days carry the rest of this currency
                self._transit[code] = min(self._transit.get(code, when), when)
                lines.append(f"  {TRANSIT}  {self._amount(-net, code, transaction, None)}")
        return "\n".join(lines) + "\n\n"

    def _note(self, name: str, code: str, when: date) -> None:
        known = self._opened.get(name)
        if known is None or when < known[0]:
            self._opened[name] = (when, code)
        if code not in self._first_use or when < self._first_use[code]:
            self._first_use[code] = when

    def _amount(self, amount: Decimal, code: str, transaction: RecordedTransaction, leg: int | None) -> str:
        where = f"set {transaction.transaction_id}" + (f" leg {leg}" if leg is not None else "")
        try:
            quantum = self._currencies.quantum(code)
        except CurrencyError as error:
            raise BeancountError(f"{where}: currency {code!r}: {error}") from None
        try:
            exact = quantize(amount, quantum)
        except (Inexact, InvalidOperation):
            raise BeancountError(
                f"{where}: {amount} {code} has more digits than {code}'s precision ({quantum})"
            ) from None
        return f"{format(exact, 'f')} {commodity(code)}"

    def directives(self) -> str:
        """Commodity and open directives for everything written so far, each dated at first use
        (Beancount sorts by date, so they may follow the transactions in the file)."""
        lines = [
            f"{first.isoformat()} commodity {commodity(code)}"
            for code, first in sorted(self._first_use.items())
        ]
        lines += [
            f"{first.isoformat()} open {name} {code}" for name, (first, code) in sorted(self._opened.items())
        ]
        if self._transit:
            codes = ",".join(sorted(self._transit))
            lines.append(f"{min(self._transit.values()).isoformat()} open {TRANSIT} {codes}")
        return "\n".join(lines) + "\n" if lines else ""


def header(title: str) -> str:
    """The file's first lines: what it is, and its title for Beancount's reports."""
    return (
        "; the books of a ledger-tui ledger: one transaction per entry set and effective day, in commit\n"
        "; order; open and commodity directives at the end (docs/beancount-export.md)\n"
        f'option "title" {string(title)}\n\n'
    )
