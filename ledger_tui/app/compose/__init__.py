"""Compose: build a balanced entry set leg by leg, check it live, post it once (ctrl+s)."""
