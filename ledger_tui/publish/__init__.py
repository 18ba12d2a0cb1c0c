"""Publishing: the ledger's change feed relayed to Kafka or a webhook, resuming where it stopped."""
