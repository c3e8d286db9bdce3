"""Run SQLite on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call on a helper thread; through SQLAlchemy a statement costs
four hand-offs (cursor, execute, fetch, close), about 0.45 ms here, while SQLite
itself answers an indexed lookup in a few microseconds. This shim offers the
small part of aiosqlite's interface that SQLAlchemy's adapter uses, but does the
work inline, so a unit of work costs what SQLite costs.

It is used through ``create_async_engine(..., async_creator=...)``, a supported
SQLAlchemy hook. The trade: a statement blocks the loop while it runs. That is
right for the embedded default (short indexed statements, one process, writers
already queued on an asyncio lock); PostgreSQL is how the bot scales out.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any


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
        self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, parameters: Any) -> _InlineCursor:
        self._cursor.executemany(operation, parameters)
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
        self._connection = connection  # SQLAlchemy checks it to know the connection is open
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def execute(self, operation: str, parameters: Any = ()) -> _InlineCursor:
        return await self.cursor().execute(operation, parameters)

    async def commit(self) -> None:
        self._conn.commit()

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
        # check_same_thread=False: the pool may close connections from a finaliser thread.
        return InlineConnection(sqlite3.connect(path, check_same_thread=False, isolation_level=None))

    return connect
