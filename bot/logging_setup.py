"""Logging that never carries personal data.

Our own log lines name ids and exception types only. Some libraries echo whole
payloads at DEBUG (ptb logs every Bot API call with its text, aiosqlite every
statement with its parameters, httpx every URL with the bot token), so they are
held at INFO or above whatever level the application runs at.
"""
from __future__ import annotations

import logging

_PAYLOAD_ECHOING_LOGGERS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "aiohttp.access": logging.INFO,
}


def cap_payload_echoing_loggers() -> None:
    for name, floor in _PAYLOAD_ECHOING_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level == logging.NOTSET:
            logger.setLevel(floor)


def _not_alembic_preamble(record: logging.LogRecord) -> bool:
    # Alembic says which dialect it uses at every start; only the migrations it runs are news.
    return not str(record.msg).startswith(("Context impl ", "Will assume "))


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cap_payload_echoing_loggers()
    migration_log = logging.getLogger("alembic.runtime.migration")
    if _not_alembic_preamble not in migration_log.filters:
        migration_log.addFilter(_not_alembic_preamble)
