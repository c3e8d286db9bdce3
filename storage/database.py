"""Engine construction and the entry point for units of work."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.encryption import FieldCipher
from storage.errors import DatabaseUrlError
from storage.sqlite_inloop import inline_creator
from storage.unit_of_work import UnitOfWork

URL_SETTING = "HEALTHCODE_DATABASE_URL"
_EXAMPLES = "sqlite+aiosqlite:///path/to/healthcode.db or postgresql+asyncpg://user@host:5432/dbname"
# Plain scheme names are accepted and mapped to the async driver we ship with.
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
_WAL_ATTEMPTS = 50
_WAL_RETRY_SECONDS = 0.02


def parse_database_url(raw: str) -> URL:
    """Validate ``raw`` and return it with the async driver filled in.

    Errors name the setting but never echo the URL, which may hold a password.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise DatabaseUrlError(f"{URL_SETTING} is empty; expected {_EXAMPLES}")
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):  # ValueError: e.g. an unclosed IPv6 bracket, "u@[::1"
        raise DatabaseUrlError(
            f"{URL_SETTING} is not a valid database URL; expected {_EXAMPLES}"
        ) from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise DatabaseUrlError(
            f"{URL_SETTING} names unsupported driver {url.drivername!r}; expected {_EXAMPLES}"
        )
    if driver.startswith("postgresql") and not url.database:
        raise DatabaseUrlError(f"{URL_SETTING} has no database name; expected {_EXAMPLES}")
    return url.set(drivername=driver)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the driver so the "begin" hook below decides how to start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        _ensure_wal(cursor)
    finally:
        cursor.close()


def _ensure_wal(cursor: Any) -> None:
    """Switch the file to WAL (a persistent setting) unless it already is.

    Switching needs exclusive access and SQLite reports "locked" at once instead
    of honouring busy_timeout, so processes racing on a brand-new file retry
    briefly. Once the file is in WAL this is a single read.
    """
    for attempt in range(1, _WAL_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0].lower() in ("wal", "memory"):
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.fetchall()
            return
        except Exception as error:  # the driver's OperationalError, whichever adapter
            if "locked" not in str(error) or attempt == _WAL_ATTEMPTS:
                raise
            time.sleep(_WAL_RETRY_SECONDS)  # only ever on a first start; keep it short


def _begin_immediate(connection: Any) -> None:
    # Taking the write lock up front means two writers never both hold a read
    # lock and then deadlock on upgrade; the loser waits out busy_timeout instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(raw_url: str, **engine_options: Any) -> AsyncEngine:
    """An async engine configured for this project (used by Database and migrations)."""
    url = parse_database_url(raw_url)
    # Keep bound values (Telegram ids, sealed blobs) out of exception messages and logs.
    engine_options.setdefault("hide_parameters", True)
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        engine_options.setdefault("async_creator", inline_creator(url.database))
    engine = create_async_engine(url, **engine_options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


class Database:
    """Owns the engine and session factory; hands out units of work."""

    def __init__(self, url: str, cipher: FieldCipher, **engine_options: Any) -> None:
        self._engine = create_engine(url, **engine_options)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        self._cipher = cipher
        # SQLite admits one writer. Queueing writers on an asyncio lock is fair and instant;
        # leaving it to SQLite's busy handler makes them sleep-poll (up to 100 ms a try).
        self._writer_gate = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._cipher, self.dialect, self._writer_gate)

    async def ping(self, timeout: float = 5.0) -> bool:
        """True when the database answers ``SELECT 1`` within ``timeout`` seconds.

        Meant for health checks, so it reports failure instead of raising.
        """
        try:
            async with asyncio.timeout(timeout), self._engine.connect() as connection:
                return (await connection.execute(text("SELECT 1"))).scalar_one() == 1
        except Exception:  # noqa: BLE001 - any failure at all means "not healthy"
            return False

    async def dispose(self) -> None:
        await self._engine.dispose()
