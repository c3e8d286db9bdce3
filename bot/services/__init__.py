"""Use cases: one unit of work per update, calling rules and storage. No Telegram types here."""
