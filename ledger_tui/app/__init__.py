"""The Textual console: compose entry sets, browse partitions, chart balances, read a trial balance.

One package per feature (compose, browse, chart, trial_balance, find) over shared widgets; the
shell (``app.py``) alone knows them all and hears from them by messages (``messages.py``).
"""
