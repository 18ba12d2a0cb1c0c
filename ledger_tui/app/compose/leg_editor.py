"""One editable leg of a draft: five address fields, side, amount, description, effective time.

Errors are shown on the leg itself (the field turns invalid and the reason is listed under
it), so an operator sees exactly which field of which leg the ledger would reject.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Label, Select, Static

from ...domain.model import ADDRESS_FIELDS
from ..widgets.ledger_input import LedgerInput
from .draft import LegDraft
from .suggest import KnownAccounts, ScopedSuggester

TEXT_FIELDS = (*ADDRESS_FIELDS, "amount", "description", "effective")
PLACEHOLDERS = {
    "legal_entity": "legal entity",
    "namespace": "namespace",
    "name": "name",
    "currency": "CUR",
    "account_id": "account id",
    "amount": "amount",
    "description": "description",
    "effective": "effective (ISO / ms; blank: now)",
}
#: Shorter hints where a narrow terminal leaves a field about fifteen columns.
NARROW_PLACEHOLDERS = {"effective": "effective: now"}
SIDES: list[tuple[str, str]] = [("debit", "debit"), ("credit", "credit")]


def no_accounts() -> KnownAccounts:
    """Completions before the ledger's accounts arrived: none."""
    return KnownAccounts()


class LegEditor(Vertical):
    """Two compact rows of fields plus a line of field errors.

    Wide: the address, side and amount share the first row. Narrow (under 100 columns): side
    and amount move to the second row so every address part keeps a readable width.
    """

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    narrow: reactive[bool] = reactive(False, recompose=True)

    def __init__(
        self,
        number: int,
        draft: LegDraft,
        accounts: Callable[[], KnownAccounts] = no_accounts,
        *,
        narrow: bool = False,
    ) -> None:
        super().__init__(classes="leg")
        self._number = number
        self._draft = draft
        self._accounts = accounts
        self._errors: tuple[dict[str, str], tuple[str, ...], bool] | None = None
        self.set_reactive(LegEditor.narrow, narrow)

    def compose(self) -> ComposeResult:
        """Address row, details row, errors line."""
        draft = self._draft
        side: Select[str] = Select(
            SIDES, value=draft.side if draft.side in ("debit", "credit") else "debit",
            allow_blank=False, compact=True, classes="field-side",
        )  # fmt: skip
        with Horizontal(classes="leg-row"):
            yield Label(f"{self._number:>2}", classes="leg-number")
            for name in ADDRESS_FIELDS:
                yield self._input(name, getattr(draft, name))
            if not self.narrow:
                yield side
                yield self._input("amount", draft.amount)
        with Horizontal(classes="leg-row"):
            yield Label("", classes="leg-number")
            if self.narrow:
                yield side
                yield self._input("amount", draft.amount)
            yield self._input("description", draft.description)
            yield self._input("effective", draft.effective)
        yield Static("", classes="leg-errors")
        if self._errors is not None:  # re-laid out: show the last verdict again once mounted
            self.call_after_refresh(self.show_errors, *self._errors)

    def set_narrow(self, narrow: bool) -> None:
        """Re-lay the leg out for a narrow or wide terminal, keeping what was typed."""
        if narrow != self.narrow:
            if self.is_mounted:
                self._draft = self.draft
            self.narrow = narrow

    def _address_parts(self) -> list[str]:
        return [field.value for field in self.query(".field").results(Input) if field.name in ADDRESS_FIELDS]

    def _input(self, name: str, value: str) -> LedgerInput:
        suggester = None
        if name in ADDRESS_FIELDS:
            suggester = ScopedSuggester(name, self._accounts, self._address_parts)
        placeholder = (NARROW_PLACEHOLDERS if self.narrow else PLACEHOLDERS).get(name, PLACEHOLDERS[name])
        field = LedgerInput(
            value=value, placeholder=placeholder, compact=True, suggester=suggester,
            classes=f"field field-{name}", name=name, complete_on_tab=suggester is not None,
        )  # fmt: skip
        return field

    def set_number(self, number: int) -> None:
        """Renumber after a leg above was removed."""
        self._number = number
        self.query_one(".leg-number", Label).update(f"{number:>2}")

    @property
    def draft(self) -> LegDraft:
        """The leg as currently typed."""
        values = {field.name: field.value for field in self.query(".field").results(Input) if field.name}
        if not values:  # between a re-layout's removal and its new fields: what was typed
            return self._draft
        side = self.query_one(".field-side", Select).value
        return LegDraft(**values, side=str(side) if isinstance(side, str) else "debit")

    def toggle_side(self) -> None:
        """Flip debit and credit (quicker than opening the select)."""
        select: Select[str] = self.query_one(".field-side", Select)
        select.value = "credit" if select.value == "debit" else "debit"

    def show_errors(self, errors: dict[str, str], missing: tuple[str, ...], quiet: bool) -> None:
        """Mark bad fields and list why; missing fields are listed unless the leg is untouched."""
        self._errors = (errors, missing, quiet)
        if not self.query(".leg-errors"):
            return  # being re-laid out: compose shows this verdict
        for field in self.query(".field").results(Input):
            field.set_class(field.name in errors, "-invalid")
        self.query_one(".field-side").set_class("side" in errors, "-invalid")
        reasons = [f"{name}: {reason}" for name, reason in errors.items()]
        if missing and not quiet:
            reasons.append("required: " + ", ".join(missing))
        line = self.query_one(".leg-errors", Static)
        line.update("   " + " · ".join(reasons) if reasons else "")
        line.display = bool(reasons)
