"""Named balances: a name standing for a set of address patterns, as in the origin service.

Parsed from TOML text here; which file (the user's, or the one bundled with the package) is
the engine builder's business, so this module never touches a disk.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from .address import AddressPattern, parse_pattern
from .errors import ValidationError


@dataclass(frozen=True, slots=True)
class NamedBalance:
    """A named set of address patterns whose balances are summed, as in the origin service."""

    name: str
    description: str
    patterns: tuple[AddressPattern, ...]


def parse_named_balances(text: str, source: str) -> dict[str, NamedBalance]:
    """Named balances from TOML: ``[name]`` tables with ``addresses = ["LE/NS/N/CUR/*"]``.

    ``source`` names the file in error messages.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError.single(source, f"is not valid TOML: {error}") from None
    balances: dict[str, NamedBalance] = {}
    for name, table in data.items():
        if not isinstance(table, dict) or not isinstance(table.get("addresses"), list):
            raise ValidationError.single(f"{name}.addresses", "must be a list of address patterns")
        patterns = tuple(
            parse_pattern(str(item), f"{name}.addresses[{i}]", any_level=True)
            for i, item in enumerate(table["addresses"])
        )
        if not patterns:
            raise ValidationError.single(f"{name}.addresses", "must not be empty")
        balances[name] = NamedBalance(name, str(table.get("description", "")), patterns)
    return balances
