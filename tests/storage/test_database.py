"""Database: URL validation, SQLite configuration, ping, unit-of-work transaction semantics."""
from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database, parse_database_url
from storage.encryption import FieldCipher
from storage.errors import AlreadyRegistered, DatabaseUrlError
from storage.records import NewUser, UserProfile


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("not a url at all", "not a valid database URL"),
        ("mysql://root:s3cret@db/health", "unsupported driver 'mysql'"),
        ("postgresql+psycopg2://u:s3cret@h/db", "unsupported driver 'postgresql+psycopg2'"),
        ("postgresql+asyncpg://u:s3cret@h", "has no database name"),
    ],
)
def test_bad_urls_name_the_setting_and_never_echo_secrets(raw: str, reason: str) -> None:
    with pytest.raises(DatabaseUrlError, match=re.escape(reason)) as caught:
        Database(raw, FieldCipher(bytes(32)))
    message = str(caught.value)
    assert message.startswith("HEALTHCODE_DATABASE_URL")
    assert "s3cret" not in message


def test_database_url_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_database_url("oracle://x/y")


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_plain_schemes_get_the_async_driver(raw: str, driver: str) -> None:
    assert parse_database_url(raw).drivername == driver


async def test_dialect_names_the_backend(database: Database, backend: str) -> None:
    assert database.dialect == backend


async def test_ping_answers_true_when_reachable(database: Database) -> None:
    assert await database.ping() is True


@pytest.mark.parametrize("where", ["sqlite file in a missing directory", "postgresql on a closed port"])
async def test_ping_answers_false_when_unreachable(tmp_path: Path, where: str) -> None:
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
        if where.startswith("sqlite")
        else "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    )
    workers_before = set(threading.enumerate())
    db = Database(url, FieldCipher(bytes(32)))
    try:
        assert await db.ping(timeout=3) is False
    finally:
        await db.dispose()
    # aiosqlite leaves the worker thread of a failed connect to finish on its own;
    # wait for it while the loop still runs, or it reports to a closed loop later.
    for worker in set(threading.enumerate()) - workers_before:
        await asyncio.to_thread(worker.join, 5)


async def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", FieldCipher(bytes(32)))
    try:
        async with db.engine.connect() as connection:
            values = {
                pragma: (await connection.execute(text(f"PRAGMA {pragma}"))).scalar_one()
                for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        await db.dispose()
    # synchronous: 1 is NORMAL
    assert values == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}


async def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    db = Database(f"sqlite+aiosqlite:///{path}", FieldCipher(bytes(32)))
    try:
        async with db.engine.connect() as connection:
            # Only a read so far, yet the write lock must already be held.
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
            await connection.commit()
    finally:
        await db.dispose()
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # free again after commit
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_unit_of_work_commits_on_success(database: Database, now) -> None:
    async with database.unit_of_work() as uow:
        await uow.preferences.set_language(5, "zh-Hans", now)
    async with database.unit_of_work() as uow:
        assert await uow.preferences.get_language(5) == "zh-Hans"


async def test_unit_of_work_rolls_back_on_exception(database: Database, now) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with database.unit_of_work() as uow:
            await uow.preferences.set_language(5, "en", now)
            raise Boom()
    async with database.unit_of_work() as uow:
        assert await uow.preferences.get_language(5) is None


async def test_unit_of_work_is_single_use(database: Database) -> None:
    uow = database.unit_of_work()
    async with uow:
        pass
    with pytest.raises(RuntimeError, match="already used"):
        async with uow:
            pass


async def test_a_registration_conflict_leaves_the_unit_of_work_usable(
    database: Database,
    add_user: Callable[..., Awaitable[UserProfile]],
    new_user: Callable[..., NewUser],
    now,
) -> None:
    await add_user(1001)
    async with database.unit_of_work() as uow:
        await uow.preferences.set_language(1001, "en", now)
        with pytest.raises(AlreadyRegistered):
            await uow.users.add(new_user(1001, resident_id="110105199001010011"), now)
        # PostgreSQL would refuse this if the failed INSERT had aborted the transaction.
        await uow.preferences.set_language(1002, "zh-Hans", now)
    async with database.unit_of_work() as uow:
        assert await uow.preferences.get_language(1001) == "en"
        assert await uow.preferences.get_language(1002) == "zh-Hans"
