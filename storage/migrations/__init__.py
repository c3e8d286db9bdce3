"""Alembic migration environment, driven programmatically by ``storage.migrate``."""
