"""Entry sets from an event pipeline (Kafka) into the ledger, through the engine's bulk path."""
