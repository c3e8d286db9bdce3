"""Database.on_writes (the caches' write watch) never hides why a transaction failed."""
from __future__ import annotations

import secrets

import pytest

from storage.database import Database
from storage.encryption import FieldCipher


class BrokenMidway(Exception):
    pass


async def test_a_turn_whose_connection_broke_fails_with_its_own_error_not_the_watchs(database_url: str) -> None:
    database = Database(database_url, FieldCipher(secrets.token_bytes(32)))
    database.on_writes({"statuses"}, lambda: None)
    try:
        with pytest.raises(BrokenMidway):
            async with database.unit_of_work() as uow:
                await uow.users.get(1)
                # What a socket failing mid-transaction leaves: an invalidated connection. The rollback
                # that follows ran the watch's listener, which asked the dead connection for its info and
                # raised PendingRollbackError in place of the error that caused the rollback.
                connection = await uow._session.connection()
                await connection.invalidate()
                raise BrokenMidway
        async with database.unit_of_work() as uow:  # and the pool goes on serving
            assert await uow.users.get(1) is None
    finally:
        await database.dispose()
