"""One editable leg of a draft: five address fields, side, amount, description, effective time.

Errors are shown on the leg itself (the field turns invalid and the reason is listed under
it), so an operator sees exactly which field of which leg the ledger would reject.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from ..domain.model import ADDRESS_FIELDS
from .draft import LegDraft
from .ledger_input import LedgerInput

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
SIDES: list[tuple[str, str]] = [("debit", "debit"), ("credit", "credit")]


class LegEditor(Vertical):
    """Two compact rows of fields plus a line of field errors."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()  # widgets have no CSS_PATH

    def __init__(self, number: int, draft: LegDraft, suggestions: dict[str, list[str]]) -> None:
        super().__init__(classes="leg")
        self._number = number
        self._draft = draft
        self._suggestions = suggestions

    def compose(self) -> ComposeResult:
        """Address row, details row, errors line."""
        draft = self._draft
        with Horizontal(classes="leg-row"):
            yield Label(f"{self._number:>2}", classes="leg-number")
            for name in ADDRESS_FIELDS:
                yield self._input(name, getattr(draft, name))
            side: Select[str] = Select(
                SIDES, value=draft.side if draft.side in ("debit", "credit") else "debit",
                allow_blank=False, compact=True, classes="field-side",
            )  # fmt: skip
            yield side
            yield self._input("amount", draft.amount)
        with Horizontal(classes="leg-row"):
            yield Label("", classes="leg-number")
            yield self._input("description", draft.description)
            yield self._input("effective", draft.effective)
        yield Static("", classes="leg-errors")

    def _input(self, name: str, value: str) -> LedgerInput:
        values = self._suggestions.get(name)
        suggester = SuggestFromList(values, case_sensitive=True) if values else None
        field = LedgerInput(
            value=value, placeholder=PLACEHOLDERS[name], compact=True, suggester=suggester,
            classes=f"field field-{name}", name=name,
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
        side = self.query_one(".field-side", Select).value
        return LegDraft(**values, side=str(side) if isinstance(side, str) else "debit")

    def toggle_side(self) -> None:
        """Flip debit and credit (quicker than opening the select)."""
        select: Select[str] = self.query_one(".field-side", Select)
        select.value = "credit" if select.value == "debit" else "debit"

    def set_suggestions(self, suggestions: dict[str, list[str]]) -> None:
        """Offer the ledger's known address parts as completions."""
        self._suggestions = suggestions
        for field in self.query(".field").results(Input):
            values = suggestions.get(field.name or "")
            if values:
                field.suggester = SuggestFromList(values, case_sensitive=True)

    def show_errors(self, errors: dict[str, str], missing: tuple[str, ...], quiet: bool) -> None:
        """Mark bad fields and list why; missing fields are listed unless the leg is untouched."""
        for field in self.query(".field").results(Input):
            field.set_class(field.name in errors, "-invalid")
        self.query_one(".field-side").set_class("side" in errors, "-invalid")
        reasons = [f"{name}: {reason}" for name, reason in errors.items()]
        if missing and not quiet:
            reasons.append("required: " + ", ".join(missing))
        line = self.query_one(".leg-errors", Static)
        line.update("   " + " · ".join(reasons) if reasons else "")
        line.display = bool(reasons)
