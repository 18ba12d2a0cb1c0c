"""Named balances in the origin service's YAML: ``balance_definitions.yml`` + ``address_config.yml``.

The origin names each address once (an alias in ``address_config.yml``) and lists aliases per
balance name (``balance_definitions.yml``); reading both gives the same NamedBalance the TOML
form gives, so its config files work unchanged with ``--balances``. Text in, no disk access.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from .domain.address import AddressPattern, parse_pattern
from .domain.errors import ValidationError
from .domain.model import ADDRESS_FIELDS
from .domain.named import NamedBalance

#: The origin's time axes; "committed" is the entry's own timestamp, the only one it reads by.
SUPPORTED_TIME_AXES = ("committed",)
ADDRESS_CONFIG_NAME = "address_config.yml"


def _load_mapping(text: str, source: str) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ValidationError.single(source, f"is not valid YAML{at}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError.single(source, "must be a mapping of names at the top level")
    return data


def parse_origin_addresses(text: str, source: str) -> dict[str, AddressPattern]:
    """Aliases of ``address_config.yml``: ``alias: {legal_entity, namespace, name, currency, account_id}``."""
    aliases: dict[str, AddressPattern] = {}
    for alias, table in _load_mapping(text, source).items():
        if not isinstance(table, Mapping):
            raise ValidationError.single(f"{source}: {alias}", "must be a mapping of the five address parts")
        missing = [part for part in ADDRESS_FIELDS if part not in table]
        if missing:
            raise ValidationError.single(f"{source}: {alias}", f"is missing {', '.join(missing)}")
        parts = [str(table[part]) for part in ADDRESS_FIELDS]
        aliases[str(alias)] = parse_pattern("/".join(parts), f"{source}: {alias}")
    return aliases


def parse_origin_balances(
    definitions: str, addresses: str, definitions_source: str, addresses_source: str
) -> dict[str, NamedBalance]:
    """Named balances from the origin's two YAML files (aliases resolved, time axis checked)."""
    aliases = parse_origin_addresses(addresses, addresses_source)
    balances: dict[str, NamedBalance] = {}
    for name, table in _load_mapping(definitions, definitions_source).items():
        where = f"{definitions_source}: {name}"
        if not isinstance(table, Mapping) or not isinstance(table.get("addresses"), list):
            raise ValidationError.single(f"{where}.addresses", "must be a list of address aliases")
        axis = str(table.get("time_axis", "committed"))
        if axis not in SUPPORTED_TIME_AXES:
            raise ValidationError.single(
                f"{where}.time_axis", f"{axis!r} is not supported (only 'committed': the entry timestamp)"
            )
        patterns = []
        for index, alias in enumerate(table["addresses"]):
            if str(alias) not in aliases:
                raise ValidationError.single(
                    f"{where}.addresses[{index}]", f"{alias!r} is not an alias in {addresses_source}"
                )
            patterns.append(aliases[str(alias)])
        if not patterns:
            raise ValidationError.single(f"{where}.addresses", "must not be empty")
        balances[str(name)] = NamedBalance(str(name), str(table.get("description", "")), tuple(patterns))
    return balances
