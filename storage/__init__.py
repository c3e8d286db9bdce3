"""Persistence: SQLAlchemy models, repositories, the unit of work and migrations.

Knows nothing of Telegram. Repositories return the plain records in
``storage.records``, never ORM rows.
"""
