"""Browse: the account tree, a partition's entries page by page, a transaction's legs and its reversal."""
