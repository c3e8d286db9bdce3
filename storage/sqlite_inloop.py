"""Run SQLite on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call on a helper thread; through SQLAlchemy a statement costs
four hand-offs (cursor, execute, fetch, close), about 0.45 ms here, while SQLite
itself answers an indexed lookup in a few microseconds. This shim offers the
small part of aiosqlite's interface that SQLAlchemy's adapter uses, but does the
work inline, so a unit of work costs what SQLite costs.

Nothing here may wait on a lock inline: SQLite's own busy handler sleeps on the calling
thread, which here is the event loop's. So the connection's busy_timeout is 0 and a
statement that finds the database locked (another process writing, or switching the file
to WAL) is retried after an ``asyncio.sleep``, for up to ``BUSY_WAIT_SECONDS`` in all, the
budget busy_timeout used to give. Writers inside this process never get that far: they
queue on the writer gate first.

The file is created 0600 (and an existing one tightened): it links Telegram ids to
colours and reason codes. SQLite gives the -wal and -shm files the database file's mode.

It is used through ``create_async_engine(..., async_creator=...)``, a supported
SQLAlchemy hook. The trade: a statement blocks the loop while it runs. That is
right for the embedded default (short indexed statements, one process, writers
already queued on an asyncio lock); PostgreSQL is how the bot scales out.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

BUSY_WAIT_SECONDS = 5.0
_FIRST_RETRY_SECONDS = 0.001
_LONGEST_RETRY_SECONDS = 0.025
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517  # the snapshot is stale: retrying the statement cannot help
_PRIVATE = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")
_T = TypeVar("_T")


def is_busy(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT


async def retry_while_busy(attempt: Callable[[], _T]) -> _T:
    """``attempt()``, retried while SQLite says "database is locked", sleeping on the loop between tries.

    A statement that returns SQLITE_BUSY did nothing and may be run again (BEGIN IMMEDIATE,
    COMMIT, a read during WAL recovery). After ``BUSY_WAIT_SECONDS`` the last error is raised.
    """
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    pause = _FIRST_RETRY_SECONDS
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_RETRY_SECONDS)


class _InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Any = ()) -> _InlineCursor:
        await retry_while_busy(lambda: self._cursor.execute(operation, parameters))
        return self

    async def executemany(self, operation: str, parameters: Any) -> _InlineCursor:
        await retry_while_busy(lambda: self._cursor.executemany(operation, parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue: SQLAlchemy's isolation-level setter posts to it."""

    def put_nowait(self, item: tuple[Any, Callable[[], None]]) -> None:
        future, function = item
        try:
            function()
        except Exception as error:  # handed back through the future, as aiosqlite would
            future.set_exception(error)
        else:
            future.set_result(None)


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # SQLAlchemy checks it to know the connection is open
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        # typeshed lists only the named levels, but sqlite3 also takes "" (SQLAlchemy's pysqlite passes it).
        self._conn.isolation_level = value  # type: ignore[assignment]

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def execute(self, operation: str, parameters: Any = ()) -> _InlineCursor:
        return await self.cursor().execute(operation, parameters)

    async def commit(self) -> None:
        # In WAL a COMMIT does not wait; in rollback-journal mode it can, and may be retried.
        await retry_while_busy(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self._connection = None
        self._conn.close()

    def stop(self) -> None:
        self._connection = None
        self._conn.close()


def inline_creator(path: str) -> Callable[[], Awaitable[InlineConnection]]:
    async def connect() -> InlineConnection:
        make_private(path)
        # check_same_thread=False: the pool may close connections from a finaliser thread.
        # timeout=0 is busy_timeout=0: see the module docstring.
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=0)
        try:
            await _ensure_wal(connection)
        except BaseException:
            connection.close()
            raise
        return InlineConnection(connection)

    return connect


async def _ensure_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL (a persistent setting) unless it already is; a single read once it is.

    Processes racing on a brand-new file see "locked" while one of them switches it.
    """
    def switch() -> None:
        if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            connection.execute("PRAGMA journal_mode=WAL").fetchall()

    await retry_while_busy(switch)


def make_private(path: str) -> None:
    """Create the database file 0600, or take group and other access away from an existing one."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, _PRIVATE)
    except OSError:
        return  # a missing directory or a read-only file: sqlite3.connect reports it properly
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_IMODE(mode) & 0o077:
            os.fchmod(descriptor, stat.S_IMODE(mode) & ~0o077)
            log.warning("database file %s was readable by others; it is now %o",
                        path, stat.S_IMODE(mode) & ~0o077)
    except OSError:
        pass  # not ours to change (another owner); SQLite still opens it as before
    finally:
        os.close(descriptor)
    for suffix in _SIDE_FILES:
        try:
            side_mode = stat.S_IMODE(os.stat(path + suffix).st_mode)
            if side_mode & 0o077:
                os.chmod(path + suffix, side_mode & ~0o077)
        except OSError:
            continue  # absent (the usual case) or not ours
