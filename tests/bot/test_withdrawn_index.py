"""WithdrawnIndex: our revocation list in memory, kept up to date from the database."""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from bot.services.verification_records import IssuerRecordCache, WithdrawnIndex
from rules.model import Colour
from storage.database import Database
from storage.encryption import FieldCipher
from storage.records import CredentialRecord, NewUser

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
KEY = bytes(range(32))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
async def databases(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """This process's database, and another process's view of the same one."""
    here, there = Database(database_url, FieldCipher(KEY)), Database(database_url, FieldCipher(KEY))
    yield here, there
    await here.dispose()
    await there.dispose()


def _resident_id(n: int) -> str:
    body = f"1101051990010{n:04d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


async def _credential(database: Database, telegram_id: int, issued_at: datetime = NOW, **changes: object) -> str:
    async with database.unit_of_work() as uow:
        user = await uow.users.add(NewUser(telegram_id, "张三", _resident_id(telegram_id), f"1380013{telegram_id:04d}",
                                           "110000", "v1", issued_at), issued_at)
        cti = secrets.token_hex(16)
        await uow.credentials.add(CredentialRecord(
            cti=cti, user_id=user.id, kid="k1", colour=Colour.GREEN, status_key="s", token="t",
            issued_at=issued_at, expires_at=issued_at + timedelta(days=1), **changes))
    return cti


def _count_statements(database: Database) -> list[str]:
    seen: list[str] = []
    event.listen(database.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


async def test_live_credentials_are_answered_from_memory_between_reads(databases: tuple[Database, Database]) -> None:
    here, _ = databases
    live = await _credential(here, 1)
    withdrawn = await _credential(here, 2, revoked_at=NOW)
    ticks = Ticks()
    index = WithdrawnIndex(refresh_seconds=1.0, monotonic=ticks)
    assert await index.contains(here, live, NOW, generation=0) is False
    assert await index.contains(here, withdrawn, NOW, generation=0) is True
    statements = _count_statements(here)
    for _ in range(50):
        assert await index.contains(here, live, NOW, generation=0) is False
    assert statements == [], "no database read inside the refresh interval"
    ticks.value = 1.0
    await index.contains(here, live, NOW, generation=0)
    assert statements, "read again once the interval is over"


async def test_another_processes_withdrawal_shows_after_the_interval_and_ours_at_once(
    databases: tuple[Database, Database],
) -> None:
    here, there = databases
    theirs, ours = await _credential(here, 1), await _credential(here, 2)
    ticks = Ticks()
    cache = IssuerRecordCache(monotonic=ticks)
    cache.watch(here)
    index = cache.withdrawn
    assert await index.contains(here, theirs, NOW, cache.generation) is False
    async with there.unit_of_work() as uow:  # another process supersedes: this one is not told
        await uow.credentials.supersede_others(
            (await uow.credentials.get(theirs)).user_id, "none", NOW + timedelta(seconds=5))
    later = NOW + timedelta(seconds=6)
    assert await index.contains(here, theirs, later, cache.generation) is False  # within the interval
    ticks.value = 1.0
    assert await index.contains(here, theirs, later, cache.generation) is True
    async with here.unit_of_work() as uow:  # this process revokes: seen by the very next lookup
        await uow.credentials.supersede_others((await uow.credentials.get(ours)).user_id, "none", later)
    assert await index.contains(here, ours, later, cache.generation) is True


async def test_erased_holders_credentials_are_withdrawn_and_expired_ones_are_not(
    databases: tuple[Database, Database],
) -> None:
    here, _ = databases
    erased = await _credential(here, 1)
    old = await _credential(here, 2, issued_at=NOW - timedelta(days=3), superseded_at=NOW - timedelta(days=3))
    index = WithdrawnIndex(monotonic=Ticks())
    assert await index.contains(here, erased, NOW, 0) is False
    async with here.unit_of_work() as uow:
        user = await uow.users.get((await uow.credentials.get(erased)).user_id)
        await uow.erasure.forget(user, NOW)
    assert await index.contains(here, erased, NOW, 1) is True
    assert await index.contains(here, old, NOW, 1) is False, "expired: refused for that, not listed"
    assert len(index) == 1


async def test_a_clock_moved_back_reads_everything_again(databases: tuple[Database, Database]) -> None:
    here, _ = databases
    index = WithdrawnIndex(monotonic=Ticks())
    await index.contains(here, "0" * 32, NOW + timedelta(days=5), 0)  # a read far in the future
    withdrawn = await _credential(here, 1, revoked_at=NOW)  # withdrawn "before" that read
    assert await index.contains(here, withdrawn, NOW, 0) is True


async def test_too_many_entries_hand_every_lookup_to_the_database_and_only_counting_goes_on(
    databases: tuple[Database, Database],
) -> None:
    here, _ = databases
    for telegram_id in (1, 2, 3):
        await _credential(here, telegram_id, revoked_at=NOW)
    ticks = Ticks()
    index = WithdrawnIndex(max_entries=2, monotonic=ticks)
    assert await index.contains(here, "0" * 32, NOW, 0) is None
    assert index.overflowed and len(index) == 0
    statements = _count_statements(here)
    ticks.value = 5.0  # refreshes fall due, but an overflowed index reads nothing until its full read
    assert await index.contains(here, "0" * 32, NOW, 0) is None
    assert statements == []
    ticks.value = 30.0
    assert await index.contains(here, "0" * 32, NOW, 0) is None
    assert any("count(" in statement.lower() for statement in statements)
    assert not any("cti, credentials.expires_at" in statement for statement in statements), "counted, not loaded"


async def test_a_withdrawal_stamped_long_before_its_commit_shows_at_the_next_full_read(
    databases: tuple[Database, Database],
) -> None:
    """The day-change job stamps a long run with its start time: incremental reads miss such rows."""
    here, there = databases
    late = await _credential(here, 1)
    ticks = Ticks()
    index = WithdrawnIndex(refresh_seconds=1.0, full_read_seconds=30.0, monotonic=ticks)
    assert await index.contains(here, late, NOW, 0) is False
    async with there.unit_of_work() as uow:  # committed now, stamped 10 minutes ago
        user_id = (await uow.credentials.get(late)).user_id
        await uow.credentials.supersede_others(user_id, "none", NOW - timedelta(minutes=10))
    ticks.value = 1.0
    assert await index.contains(here, late, NOW + timedelta(minutes=1), 0) is False  # the incremental read misses it
    ticks.value = 30.0
    assert await index.contains(here, late, NOW + timedelta(minutes=1), 0) is True
