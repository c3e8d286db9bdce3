"""What start-up checks before `healthcode run` or `healthcode web` spreads over several processes.

* Webhook mode on N > 1 processes needs PostgreSQL. A person's updates are ordered by a lock that
  every process can see (storage's ``lock_user``, an advisory lock); on SQLite the per-person lock
  and the writer gate live inside one process, so two processes could interleave one person's steps.
* Each process keeps ``HEALTHCODE_DATABASE_POOL_SIZE`` PostgreSQL connections, no more; all of
  them together must fit under the server's ``max_connections``, with room left for the superuser
  reserve and for the CLI (migrations, `healthcode purge`, …).
"""
from __future__ import annotations

from bot.bootstrap import StartupError
from bot.settings import Settings
from storage.database import Database

SUPERUSER_RESERVE = 3  # PostgreSQL's default superuser_reserved_connections
CLI_RESERVE = 5  # `healthcode db upgrade`, `purge`, an operator's psql, while the processes run


def refuse_webhook_workers_on_sqlite(settings: Settings) -> None:
    if settings.webhook_url and settings.web_workers > 1 and not settings.database_url.startswith("postgresql"):
        raise StartupError(
            f"HEALTHCODE_WEB_WORKERS={settings.web_workers} in webhook mode needs PostgreSQL: on SQLite a "
            "person's updates are ordered by a lock inside one process, so several bot processes could "
            "interleave them. Set HEALTHCODE_DATABASE_URL=postgresql+asyncpg://… or HEALTHCODE_WEB_WORKERS=1")


async def check_connection_budget(settings: Settings, database: Database) -> None:
    """Refuse to start processes whose pools together would exhaust PostgreSQL's connections."""
    limit = await database.connection_limit()
    if limit is None:
        return
    max_connections, _ = limit
    wanted = settings.database_pool_size * settings.web_workers
    room = max_connections - SUPERUSER_RESERVE - CLI_RESERVE
    if wanted > room:
        raise StartupError(
            f"HEALTHCODE_DATABASE_POOL_SIZE={settings.database_pool_size} × HEALTHCODE_WEB_WORKERS="
            f"{settings.web_workers} = {wanted} PostgreSQL connections, but the server allows "
            f"max_connections={max_connections} ({room} after {SUPERUSER_RESERVE} reserved for superusers "
            f"and {CLI_RESERVE} for the CLI): lower one of the two settings or raise max_connections")
