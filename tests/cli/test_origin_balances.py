"""The origin's YAML balance definitions: parsed like our TOML, read by the builder for --balances."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_tui.domain.address import AddressPattern
from ledger_tui.domain.errors import NotFound, ValidationError
from ledger_tui.ledger import LedgerOptions, build_engine, read_named_balances
from ledger_tui.origin_balances import parse_origin_balances

from ..support.origin_configs import ADDRESS_CONFIG, BALANCE_DEFINITIONS, write_origin_configs


def test_origin_definitions_resolve_their_aliases() -> None:
    balances = parse_origin_balances(BALANCE_DEFINITIONS, ADDRESS_CONFIG, "defs", "aliases")
    assert sorted(balances) == [
        "customer-facing-balance",
        "interest-chargeable-balance",
        "utilities-expense-balance",
    ]
    assert balances["customer-facing-balance"].patterns == (
        AddressPattern("fintech_uk", "com.fintech.account", "main", "GBP", "*"),
    )
    assert balances["utilities-expense-balance"].patterns[0].name == "electric"


@pytest.mark.parametrize(
    ("definitions", "aliases", "field", "reason"),
    [
        ("x: [", ADDRESS_CONFIG, "defs", "not valid YAML"),
        ("- a\n- b\n", ADDRESS_CONFIG, "defs", "mapping"),
        ("b:\n  addresses: [nope]\n", ADDRESS_CONFIG, "defs: b.addresses[0]", "not an alias in aliases"),
        ("b:\n  addresses: []\n", ADDRESS_CONFIG, "defs: b.addresses", "must not be empty"),
        ("b:\n  addresses: main_account_gbp\n", ADDRESS_CONFIG, "defs: b.addresses", "list"),
        ("b:\n  time_axis: reporting\n  addresses: [main_account_gbp]\n", ADDRESS_CONFIG, "defs: b.time_axis",
         "not supported"),
        ("b:\n  addresses: [a]\n", "a: {legal_entity: x, namespace: y, name: z, currency: GBP}\n", "aliases: a",
         "missing account_id"),
        ("b:\n  addresses: [a]\n", "a: {legal_entity: x, namespace: y, name: z, currency: gbp, account_id: q}\n",
         "aliases: a.currency", "three-letter"),
    ],
    ids=["bad-yaml", "not-mapping", "unknown-alias", "empty", "not-list", "time-axis", "missing-part", "bad-currency"],
)  # fmt: skip
def test_bad_origin_files_name_the_place_and_reason(
    definitions: str, aliases: str, field: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_origin_balances(definitions, aliases, "defs", "aliases")
    problem = caught.value.problems[0]
    assert problem.field == field and reason in problem.reason


def test_the_builder_reads_a_yml_with_its_address_config_beside_it(tmp_path: Path) -> None:
    definitions = write_origin_configs(tmp_path)
    assert "interest-chargeable-balance" in read_named_balances(definitions)
    engine = build_engine(LedgerOptions(store=f"sqlite:{tmp_path / 'l.sqlite'}", balances=definitions))
    assert engine.named_balance("customer-facing-balance").patterns[0].namespace == "com.fintech.account"
    (tmp_path / "configs" / "address_config.yml").unlink()
    with pytest.raises(NotFound, match=r"address_config\.yml does not exist"):
        read_named_balances(definitions)
