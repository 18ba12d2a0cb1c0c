"""Trial balance: every node or account of a period, per currency, with totals that prove the books."""
