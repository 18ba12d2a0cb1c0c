"""The origin service's two YAML config files, as its README documents them."""

from __future__ import annotations

from pathlib import Path

ADDRESS_CONFIG = """\
main_account_gbp:
  legal_entity: fintech_uk
  namespace: com.fintech.account
  name: main
  currency: GBP
  account_id: "*"

revenue_account_gbp:
  legal_entity: fintech_uk
  namespace: com.fintech.revenue
  name: general
  currency: GBP
  account_id: "*"

utilities_account_gbp:
  legal_entity: fintech_uk
  namespace: com.fintech.utilities
  name: electric
  currency: GBP
  account_id: "*"
"""

BALANCE_DEFINITIONS = """\
customer-facing-balance:
  time_axis: committed
  addresses:
    - main_account_gbp

interest-chargeable-balance:
  time_axis: committed
  addresses:
    - revenue_account_gbp

utilities-expense-balance:
  time_axis: committed
  addresses:
    - utilities_account_gbp
"""


def write_origin_configs(directory: Path) -> Path:
    """Write ``configs/address_config.yml`` and ``configs/balance_definitions.yml``; returns the latter."""
    configs = directory / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    (configs / "address_config.yml").write_text(ADDRESS_CONFIG)
    definitions = configs / "balance_definitions.yml"
    definitions.write_text(BALANCE_DEFINITIONS)
    return definitions
