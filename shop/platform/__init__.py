"""The platform under every business area: configuration, the database and its transactions, the outbox's write
side, the task queue, mail transport, rate limits, logs, metrics and health. No business rule lives here."""
