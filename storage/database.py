"""Engine construction and the entry point for units of work."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import UpdateBase

from storage.encryption import FieldCipher
from storage.errors import DatabaseUrlError
from storage.caches import RiskAreaCache
from storage.sqlite_inloop import InlineConnection, inline_creator
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

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
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    # Deleted rows are overwritten with zeros, so erased people do not linger in free pages.
    "PRAGMA secure_delete=ON",
)
# Only for connections on a worker thread (aiosqlite); inline ones wait on the loop instead.
_THREADED_BUSY_TIMEOUT = "PRAGMA busy_timeout=5000"
# Execution option: how a transaction on this connection begins on SQLite ("IMMEDIATE" unless set).
# None runs each statement on its own, in autocommit: a read then takes no write lock at all.
SQLITE_BEGIN = "healthcode_sqlite_begin"
_AFTER_ERASURE_CHECKPOINT_SECONDS = 2.0
_CHECKPOINT = text("PRAGMA wal_checkpoint(TRUNCATE)")
_WAL_ATTEMPTS = 50
_WAL_RETRY_SECONDS = 0.02
_WATCHES = itertools.count(1)


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
    # An inline connection has busy_timeout 0 and is already in WAL (see storage.sqlite_inloop).
    inline = isinstance(getattr(dbapi_connection, "driver_connection", None), InlineConnection)
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS if inline else (_THREADED_BUSY_TIMEOUT, *_SQLITE_PRAGMAS):
            cursor.execute(pragma)
        if not inline:
            _ensure_wal(cursor)
    finally:
        cursor.close()


def _ensure_wal(cursor: Any) -> None:
    """Switch the file to WAL (a persistent setting) unless it already is.

    Switching needs exclusive access and SQLite reports "locked" at once instead
    of honouring busy_timeout, so processes racing on a brand-new file retry
    briefly. Once the file is in WAL this is a single read. This sleep is on the
    driver's worker thread; inline connections do this on the loop at creation.
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
    # lock and then deadlock on upgrade; the loser waits instead (on the loop: sqlite_inloop).
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    if mode is not None:
        connection.exec_driver_sql(f"BEGIN {mode}")


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
        # Every path that can write or lock on SQLite goes through it: units of work, and the
        # checkpoint after an erasure. Only ping stays outside, and it takes no lock at all.
        self._writer_gate = asyncio.Lock() if self.dialect == "sqlite" else None
        self._ping_in_flight: asyncio.Future[bool] | None = None
        # This process's copy of the risk-area list, checked against the change counter (cache_versions).
        self._risk_area_cache = RiskAreaCache()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def on_writes(self, tables: Collection[str], callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever this process writes to one of ``tables``, and again when such a
        write commits (a read between the write and its commit saw the old row). For caches."""
        watched = frozenset(tables)
        flag = f"healthcode_written_{next(_WATCHES)}"  # per watch: two caches never share a flag

        def after_execute(connection: Any, clause: Any, *args: Any) -> None:
            if isinstance(clause, UpdateBase) and getattr(getattr(clause, "table", None), "name", None) in watched:
                connection.info[flag] = True
                callback()

        def on_commit(connection: Any) -> None:
            if connection.info.pop(flag, False):
                callback()

        engine = self._engine.sync_engine
        event.listen(engine, "after_execute", after_execute)
        event.listen(engine, "commit", on_commit)
        def on_rollback(connection: Any) -> None:
            # An invalidated connection (its socket failed mid-transaction) has no info to clear, and
            # asking raises: that would replace the error that caused the rollback with its own.
            if not connection.invalidated:
                connection.info.pop(flag, None)

        event.listen(engine, "rollback", on_rollback)

    def unit_of_work(self) -> UnitOfWork:
        after_erasure = self._checkpoint_after_erasure if self.dialect == "sqlite" else None
        return UnitOfWork(self._sessions, self._cipher, self.dialect, self._writer_gate, after_erasure,
                          risk_area_cache=self._risk_area_cache)

    async def ping(self, timeout: float = 5.0) -> bool:
        """True when the database answers a read within ``timeout`` seconds.

        Meant for health checks, so it reports failure instead of raising. Overlapping probes
        share one read: a burst of them costs one connection, never the pool that real work
        needs. On SQLite the read runs outside any transaction, so it takes no write lock:
        it neither waits for writers nor holds them up.
        """
        read = self._ping_in_flight
        if read is None or read.done():
            read = self._ping_in_flight = asyncio.ensure_future(self._read_once(timeout))
        try:
            return await asyncio.wait_for(asyncio.shield(read), timeout)
        except Exception:  # noqa: BLE001 - any failure at all means "not healthy"
            return False

    async def _read_once(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout), self._engine.connect() as connection:
                if self.dialect == "sqlite":
                    connection = await connection.execution_options(**{SQLITE_BEGIN: None})
                    # Reading the schema proves the file itself is readable; SELECT 1 touches nothing.
                    statement = text("SELECT count(*) >= 0 FROM sqlite_master")
                else:
                    statement = text("SELECT 1")
                return bool((await connection.execute(statement)).scalar_one() == 1)
        except Exception:  # noqa: BLE001
            return False

    async def connection_limit(self) -> tuple[int, int] | None:
        """PostgreSQL: (max_connections, connections open now, from anyone); None on SQLite."""
        if self.dialect != "postgresql":
            return None
        async with self._engine.connect() as connection:
            limit = int((await connection.execute(text("SHOW max_connections"))).scalar_one())
            open_now = int((await connection.execute(text("SELECT count(*) FROM pg_stat_activity"))).scalar_one())
        return limit, open_now

    async def _checkpoint_after_erasure(self) -> None:
        """Copy the WAL into the file and truncate it, so erased rows survive in neither.

        Called by the unit of work right after an erasure commits, still holding the writer gate.
        secure_delete has zeroed the rows in the pages; this removes the older page images from
        the WAL. A reader in another process can hold the checkpoint up: it is retried on the loop
        for a moment, then left (those frames go when the WAL is next reset). Best effort: the
        erasure has committed, so a failure here is logged, never reported as a failed erasure.
        """
        deadline = time.monotonic() + _AFTER_ERASURE_CHECKPOINT_SECONDS
        try:
            async with self._engine.connect() as connection:
                connection = await connection.execution_options(**{SQLITE_BEGIN: None})
                while (await connection.execute(_CHECKPOINT)).scalar_one():  # first column: 1 while busy
                    if time.monotonic() >= deadline:
                        log.warning("after an erasure the WAL could not be truncated yet: another "
                                    "connection is reading")
                        return
                    await asyncio.sleep(0.02)
        except Exception as error:  # noqa: BLE001 - see above
            log.warning("after an erasure the WAL checkpoint failed (%s)", type(error).__name__)

    async def dispose(self) -> None:
        read, self._ping_in_flight = self._ping_in_flight, None
        if read is not None and not read.done():
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
        await self._engine.dispose()
