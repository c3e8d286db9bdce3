"""Database: URL validation, SQLite configuration, ping, unit-of-work transaction semantics."""
from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

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
                for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous", "secure_delete")
            }
    finally:
        await db.dispose()
    # synchronous: 1 is NORMAL. busy_timeout 0: SQLite's busy handler would sleep on the event loop's
    # thread; the wait for a lock held elsewhere happens on the loop instead (issue 9, item 1).
    assert values == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 0, "synchronous": 1,
                      "secure_delete": 1}


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


# --- issue 9, item 1: nothing waits on a lock on the event loop's thread -------------------------


class _LoopWatch:
    """The longest the event loop went without running a 5 ms ticker."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> _LoopWatch:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _tick(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.worst, last = max(self.worst, now - last), now


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> threading.Thread:
    """Another process, as far as SQLite can tell: a connection on a thread holding the write lock."""
    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(seconds)
            other.execute("ROLLBACK")
        finally:
            other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's own locks
async def test_ping_takes_no_write_lock_and_answers_while_another_process_writes(database_url: str) -> None:
    path = Path(make_url(database_url).database)
    db = Database(database_url, FieldCipher(bytes(32)))
    held = threading.Event()
    try:
        await db.ping()  # the file exists and is in WAL
        holder = _hold_write_lock(path, 1.0, held)
        await asyncio.to_thread(held.wait, 5)
        async with _LoopWatch() as watch:
            started = time.perf_counter()
            answers = await asyncio.gather(*(db.ping(timeout=3) for _ in range(64)))
            elapsed = time.perf_counter() - started
        assert answers == [True] * 64
        assert elapsed < 0.5 and watch.worst < 0.2
        # And a probe holds nobody up: another connection can take the write lock meanwhile.
        async with db.engine.connect() as connection:
            connection = await connection.execution_options(healthcode_sqlite_begin=None)
            await connection.execute(text("SELECT count(*) FROM sqlite_master"))
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                await asyncio.to_thread(holder.join)
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            finally:
                other.close()
    finally:
        await db.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's own locks
async def test_a_writer_waits_for_another_process_on_the_loop_not_in_sqlite(database_url: str, now) -> None:
    path = Path(make_url(database_url).database)
    db = Database(database_url, FieldCipher(bytes(32)))
    held = threading.Event()
    try:
        holder = _hold_write_lock(path, 0.6, held)
        await asyncio.to_thread(held.wait, 5)
        async with _LoopWatch() as watch:
            started = time.perf_counter()
            async with db.unit_of_work() as uow:  # waits for the other writer, then goes ahead
                await uow.preferences.set_language(5, "en", now)
            waited = time.perf_counter() - started
        await asyncio.to_thread(holder.join)
        assert 0.4 < waited < 3 and watch.worst < 0.2
        async with db.unit_of_work() as uow:
            assert await uow.preferences.get_language(5) == "en"
    finally:
        await db.dispose()


# --- issue 9, item 10: the database and its WAL are private ----------------------------------------


async def test_sqlite_file_wal_and_shm_are_created_0600(tmp_path: Path, now) -> None:
    from storage.migrate import upgrade

    path = tmp_path / "private.db"
    url = f"sqlite+aiosqlite:///{path}"
    previous = os.umask(0o022)  # the usual umask, which leaves new files world-readable
    try:
        await upgrade(url)
        db = Database(url, FieldCipher(bytes(32)))
        try:
            async with db.unit_of_work() as uow:
                await uow.preferences.set_language(5, "en", now)
            files = {suffix: path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")}
            assert all(file.exists() for file in files.values())  # still open: the WAL is in use
            assert {suffix: oct(stat.S_IMODE(file.stat().st_mode)) for suffix, file in files.items()} == {
                "": "0o600", "-wal": "0o600", "-shm": "0o600"}
        finally:
            await db.dispose()
    finally:
        os.umask(previous)


async def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    await Database(url, FieldCipher(bytes(32))).ping()
    for file in tmp_path.iterdir():
        file.chmod(0o644)  # as earlier versions left it
    db = Database(url, FieldCipher(bytes(32)))
    try:
        assert await db.ping() is True
        modes = {file.name: oct(stat.S_IMODE(file.stat().st_mode)) for file in tmp_path.iterdir()}
    finally:
        await db.dispose()
    assert modes and set(modes.values()) == {"0o600"}, modes
