"""Which process sends bulk messages: a PostgreSQL session advisory lock held on its own connection."""
from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database

# PostgreSQL advisory lock (two-int form, "hc" namespace; 1 is migrations): one sending process.
_SENDER_LOCK = text("SELECT pg_try_advisory_lock(26723, 2)")
_SENDER_UNLOCK = text("SELECT pg_advisory_unlock(26723, 2)")


class Leadership:
    """Which process sends. The rate is the bot's (Telegram counts per bot), so with several bot
    processes on one PostgreSQL only the holder of a session advisory lock sends; the others wait
    and take over within seconds if it dies (its connection closes, the lock goes with it).
    SQLite deployments are one process: it always leads."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: AsyncConnection | None = None
        self._trying = asyncio.Lock()  # the lanes ask at once; one attempt answers them all

    @property
    def held(self) -> bool:
        return self._database.dialect != "postgresql" or self._connection is not None

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        async with self._trying:
            return self.held or await self._attempt()

    async def _attempt(self) -> bool:
        connection = await self._database.engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = bool((await connection.execute(_SENDER_LOCK)).scalar_one())
        except BaseException:
            await connection.close()
            raise
        if not acquired:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.execute(_SENDER_UNLOCK)  # pooled connections outlive us: unlock first
            finally:
                await connection.close()


__all__ = ["Leadership"]
