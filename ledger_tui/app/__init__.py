"""The Textual console: compose entry sets, browse partitions, chart balances."""
