"""Concurrent units of work: no "database is locked", no lost updates, real serialisation."""
from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from rules.model import Colour, Reason, Status
from storage.database import Database
from storage.encryption import FieldCipher
from storage.migrate import upgrade
from storage.records import ConversationState, NewUser

HOLD_SECONDS = 0.3
PG_CONFIGURED = bool(os.environ.get("TEST_DATABASE_URL"))


def postgresql_only(test: Callable) -> Callable:
    """Run only on PostgreSQL (overrides the conftest's backend parametrisation)."""
    test = pytest.mark.parametrize("backend", ["postgresql"])(test)
    return pytest.mark.skipif(not PG_CONFIGURED, reason="advisory locks need PostgreSQL (TEST_DATABASE_URL)")(test)


def _status(today: date) -> Status:
    return Status(colour=Colour.GREEN, reason=Reason("all_normal"), since=today, green_on=None, evaluated_for=today)


async def test_twenty_concurrent_upserting_units_on_sqlite_all_commit(
    tmp_path: Path, new_user: Callable[..., NewUser], make_answers, today: date, now: datetime
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    await upgrade(url)
    cipher = FieldCipher(os.urandom(32))
    # Two engines behave like two processes sharing the file.
    databases = [Database(url, cipher), Database(url, cipher)]
    try:
        user_ids = []
        for telegram_id in range(4):
            async with databases[0].unit_of_work() as uow:
                user_ids.append((await uow.users.add(new_user(telegram_id), now)).id)

        async def one(n: int) -> None:
            user_id = user_ids[n % 4]
            async with databases[n % 2].unit_of_work() as uow:
                await uow.lock_user(n % 4)
                await uow.declarations.upsert(user_id, today - timedelta(days=n // 4), make_answers(), now)
                await uow.statuses.put(user_id, _status(today), now)
                await uow.conversations.save(ConversationState(n, "declare", "done", {"n": n}), now)
                await uow.updates.mark_processed(10_000 + n, now)

        results = await asyncio.gather(*(one(n) for n in range(20)), return_exceptions=True)
        assert [repr(r) for r in results if r is not None] == []
        async with databases[1].unit_of_work() as uow:
            first = today - timedelta(days=9)
            assert [len(await uow.declarations.list_between(uid, first, today)) for uid in user_ids] == [5] * 4
            assert [await uow.updates.mark_processed(10_000 + n, now) for n in range(20)] == [False] * 20
    finally:
        for db in databases:
            await db.dispose()


async def test_locked_read_modify_write_loses_no_update(database: Database, now: datetime) -> None:
    """Twenty increments of one person's draft counter, each read-then-write with a pause between."""
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(1, "count", "n", {"count": 0}), now)

    async def increment() -> None:
        async with database.unit_of_work() as uow:
            await uow.lock_user(1)
            state = await uow.conversations.get(1)
            await asyncio.sleep(0.01)  # widen the window a lost update would need
            state.draft["count"] += 1
            await uow.conversations.save(state, now)

    await asyncio.gather(*(increment() for _ in range(20)))
    async with database.unit_of_work() as uow:
        assert (await uow.conversations.get(1)).draft["count"] == 20


async def _hold_then_contend(database: Database, holder_id: int, contender_id: int) -> dict[str, float]:
    """Holder locks and keeps its transaction open for HOLD_SECONDS; the contender then
    tries to lock. Returns monotonic times of the interesting moments."""
    times: dict[str, float] = {}
    holder_locked = asyncio.Event()

    async def holder() -> None:
        async with database.unit_of_work() as uow:
            await uow.lock_user(holder_id)
            await uow.preferences.get_language(holder_id)  # first statement on SQLite
            times["holder_locked"] = time.monotonic()
            holder_locked.set()
            await asyncio.sleep(HOLD_SECONDS)
            times["holder_committing"] = time.monotonic()

    async def contender() -> None:
        await holder_locked.wait()
        times["contender_asking"] = time.monotonic()
        async with database.unit_of_work() as uow:
            await uow.lock_user(contender_id)
            await uow.preferences.get_language(contender_id)
            times["contender_locked"] = time.monotonic()

    await asyncio.gather(holder(), contender())
    return times


async def test_lock_user_serialises_two_transactions_for_the_same_person(database: Database) -> None:
    times = await _hold_then_contend(database, holder_id=42, contender_id=42)
    assert times["contender_locked"] >= times["holder_committing"]
    assert times["contender_locked"] - times["contender_asking"] >= HOLD_SECONDS * 0.8


@postgresql_only
async def test_lock_user_on_postgresql_does_not_block_other_people(database: Database) -> None:
    assert database.dialect == "postgresql"
    times = await _hold_then_contend(database, holder_id=42, contender_id=43)
    assert times["contender_locked"] < times["holder_committing"]
    assert times["contender_locked"] - times["contender_asking"] < HOLD_SECONDS / 2


@postgresql_only
async def test_without_lock_user_postgresql_loses_updates(database: Database, now: datetime) -> None:
    """Control for the no-lost-update test: shows the lock is what makes it pass on PostgreSQL."""
    assert database.dialect == "postgresql"
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(1, "count", "n", {"count": 0}), now)

    async def increment() -> None:
        async with database.unit_of_work() as uow:
            state = await uow.conversations.get(1)
            await asyncio.sleep(0.01)
            state.draft["count"] += 1
            await uow.conversations.save(state, now)

    await asyncio.gather(*(increment() for _ in range(20)))
    async with database.unit_of_work() as uow:
        assert (await uow.conversations.get(1)).draft["count"] < 20
