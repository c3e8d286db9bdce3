"""Instants are stored as UTC and come back timezone-aware, on SQLite too."""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import StatementError

from rules.model import Colour
from storage.database import Database
from storage.models import PreferenceRow
from storage.records import CredentialRecord, NewUser, UserProfile

BEIJING = timezone(timedelta(hours=8))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))
AddUser = Callable[..., Awaitable[UserProfile]]


def _credential(user_id: int, issued_at: datetime, expires_at: datetime) -> CredentialRecord:
    return CredentialRecord(
        cti=secrets.token_hex(16), user_id=user_id, kid="k1", colour=Colour.GREEN,
        status_key="green:2024-03-01", token="t", issued_at=issued_at, expires_at=expires_at,
    )


async def test_offsets_and_microseconds_survive_and_come_back_as_utc(
    database: Database, add_user: AddUser
) -> None:
    user = await add_user()
    issued = datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=BEIJING)
    expires = datetime(2024, 3, 1, 11, 0, 0, 1, tzinfo=NEW_YORK_WINTER)
    record = _credential(user.id, issued, expires)
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
    async with database.unit_of_work() as uow:
        got = await uow.credentials.get(record.cti)
    assert (got.issued_at, got.expires_at) == (issued, expires)
    assert got.issued_at.tzinfo == timezone.utc and got.expires_at.tzinfo == timezone.utc
    assert got.issued_at.isoformat() == "2024-03-01T15:59:59.999999+00:00"


async def test_comparisons_use_the_instant_not_the_wall_clock(database: Database, add_user: AddUser) -> None:
    user = await add_user()
    expires = datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    record = _credential(user.id, expires - timedelta(hours=24), expires)
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
    just_before = datetime(2024, 3, 1, 17, 59, tzinfo=BEIJING)  # 09:59 UTC
    just_after = datetime(2024, 3, 1, 18, 1, tzinfo=BEIJING)  # 10:01 UTC
    async with database.unit_of_work() as uow:
        assert await uow.credentials.find_current(user.id, record.status_key, just_before) == record
        assert await uow.credentials.find_current(user.id, record.status_key, just_after) is None


async def test_repositories_refuse_naive_datetimes_naming_the_field(
    database: Database, new_user: Callable[..., NewUser], add_user: AddUser
) -> None:
    naive = datetime(2024, 3, 1, 8, 0)
    user = await add_user()
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="now: naive datetime refused"):
            await uow.preferences.set_language(1, "en", naive)
        with pytest.raises(ValueError, match="consented_at: naive datetime refused"):
            await uow.users.add(new_user(2002, consented_at=naive), datetime.now(timezone.utc))
        with pytest.raises(ValueError, match="credential.expires_at: naive datetime refused"):
            await uow.credentials.add(_credential(user.id, datetime.now(timezone.utc), naive))
        with pytest.raises(ValueError, match="now: naive datetime refused"):
            await uow.credentials.find_current(user.id, "green", naive)


async def test_the_column_type_itself_refuses_naive_datetimes(database: Database) -> None:
    async with database.engine.connect() as connection:
        with pytest.raises(StatementError, match="naive datetime refused"):
            await connection.execute(
                insert(PreferenceRow).values(telegram_id=1, language="en", updated_at=datetime(2024, 3, 1))
            )


async def test_raw_reads_are_aware_utc(database: Database) -> None:
    stored = datetime(2024, 2, 29, 12, 0, tzinfo=BEIJING)
    async with database.unit_of_work() as uow:
        await uow.preferences.set_language(1, "en", stored)
    async with database.engine.connect() as connection:
        value = (await connection.execute(select(PreferenceRow.updated_at))).scalar_one()
    assert value == stored
    assert value.utcoffset() == timedelta(0)
