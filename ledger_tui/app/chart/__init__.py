"""Chart: closing balances of an address, a pattern or a named balance over a date range."""
