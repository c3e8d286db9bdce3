"""uow.users on every backend: registration, lookups, uniqueness, updates, sealing."""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from storage.database import Database
from storage.encryption import FieldCipher
from storage.errors import AlreadyRegistered, DecryptionError, ResidentIdTaken, UserNotFound
from storage.models import UserRow
from storage.records import NewUser, UserProfile
from storage.repositories.users import PHONE_PURPOSE, RESIDENT_ID_PURPOSE

AddUser = Callable[..., Awaitable[UserProfile]]


async def test_add_returns_the_decrypted_profile(
    database: Database, new_user: Callable[..., NewUser], now: datetime
) -> None:
    data = new_user(1001)
    async with database.unit_of_work() as uow:
        profile = await uow.users.add(data, now)
    assert profile.id > 0
    assert (profile.telegram_id, profile.name, profile.resident_id, profile.phone) == (
        data.telegram_id, data.name, data.resident_id, data.phone,
    )
    assert (profile.region_code, profile.consent_version, profile.consented_at) == (
        data.region_code, data.consent_version, data.consented_at,
    )
    assert profile.created_at == now
    assert profile.active is True


async def test_subject_ids_are_16_url_safe_characters_and_distinct(add_user: AddUser) -> None:
    first, second = await add_user(1001), await add_user(1002)
    for profile in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9_-]{16}", profile.subject_id)
    assert first.subject_id != second.subject_id


async def test_lookups_by_telegram_id_and_internal_id(database: Database, add_user: AddUser) -> None:
    added = await add_user(1001)
    await add_user(1002)
    async with database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(1001) == added
        assert await uow.users.get(added.id) == added


async def test_lookups_of_unknown_users_return_none(database: Database, add_user: AddUser) -> None:
    await add_user(1001)
    async with database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(999) is None
        assert await uow.users.get(987654) is None


async def test_large_telegram_ids_fit(database: Database, add_user: AddUser) -> None:
    big = 2**52 + 7  # Telegram ids exceed 32 bits
    added = await add_user(big)
    async with database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(big) == added


async def test_resident_id_registered(database: Database, add_user: AddUser) -> None:
    await add_user(1001, resident_id="11010519900307123X")
    async with database.unit_of_work() as uow:
        assert await uow.users.resident_id_registered("11010519900307123X") is True
        # The check character may be typed in lower case; it is the same ID.
        assert await uow.users.resident_id_registered("11010519900307123x") is True
        assert await uow.users.resident_id_registered("110105199003071230") is False


async def test_second_registration_for_a_telegram_account_is_refused(
    database: Database, add_user: AddUser, new_user: Callable[..., NewUser], now: datetime
) -> None:
    await add_user(1001)
    with pytest.raises(AlreadyRegistered) as caught:
        async with database.unit_of_work() as uow:
            await uow.users.add(new_user(1001, resident_id="110105199001010011", phone="+8613900000000"), now)
    assert "telegram_id" in str(caught.value)
    assert "1001" not in str(caught.value)


async def test_a_resident_id_registers_only_once(
    database: Database, add_user: AddUser, new_user: Callable[..., NewUser], now: datetime
) -> None:
    first = await add_user(1001, resident_id="11010519900307123X")
    with pytest.raises(ResidentIdTaken) as caught:
        async with database.unit_of_work() as uow:
            await uow.users.add(new_user(2002, resident_id="11010519900307123x"), now)
    message = str(caught.value)
    assert "resident_id" in message
    assert "11010519900307123" not in message and first.name not in message
    async with database.unit_of_work() as uow:
        assert await uow.users.get_by_telegram_id(2002) is None


async def test_update_changes_only_the_given_fields(database: Database, add_user: AddUser) -> None:
    added = await add_user(1001)
    async with database.unit_of_work() as uow:
        renamed = await uow.users.update(added.id, name="Wang Fang")
        assert (renamed.name, renamed.phone, renamed.region_code) == ("Wang Fang", added.phone, added.region_code)
    async with database.unit_of_work() as uow:
        moved = await uow.users.update(added.id, phone="+8613911112222", region_code="310101")
    async with database.unit_of_work() as uow:
        stored = await uow.users.get(added.id)
    assert stored == moved
    assert (stored.name, stored.phone, stored.region_code) == ("Wang Fang", "+8613911112222", "310101")
    assert (stored.resident_id, stored.subject_id) == (added.resident_id, added.subject_id)


async def test_update_with_nothing_to_change_returns_the_profile(database: Database, add_user: AddUser) -> None:
    added = await add_user(1001)
    async with database.unit_of_work() as uow:
        assert await uow.users.update(added.id) == added


async def test_update_of_an_unknown_user_raises(database: Database, add_user: AddUser) -> None:
    await add_user(1001)
    with pytest.raises(UserNotFound, match="user_id: no user with internal id 424242"):
        async with database.unit_of_work() as uow:
            await uow.users.update(424242, name="Nobody")


async def test_update_refreshes_the_phone_blind_index(
    database: Database, add_user: AddUser, cipher: FieldCipher
) -> None:
    added = await add_user(1001)
    async with database.unit_of_work() as uow:
        await uow.users.update(added.id, phone="+8613911112222")
    async with database.engine.connect() as connection:
        stored = (await connection.execute(select(UserRow.phone_hash).where(UserRow.id == added.id))).scalar_one()
    assert stored == cipher.blind_index("+8613911112222", PHONE_PURPOSE)


async def test_set_active(database: Database, add_user: AddUser) -> None:
    await add_user(1001)
    async with database.unit_of_work() as uow:
        assert await uow.users.set_active(1001, False) is True
    async with database.unit_of_work() as uow:
        assert (await uow.users.get_by_telegram_id(1001)).active is False
        assert await uow.users.set_active(1001, True) is True
    async with database.unit_of_work() as uow:
        assert (await uow.users.get_by_telegram_id(1001)).active is True
        assert await uow.users.set_active(5555, False) is False


async def test_sensitive_columns_hold_only_ciphertext_and_blind_indexes(
    database: Database, add_user: AddUser, cipher: FieldCipher
) -> None:
    added = await add_user(1001)
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(UserRow).where(UserRow.id == added.id))).one()
    for blob, clear in ((row.name_enc, added.name), (row.resident_id_enc, added.resident_id), (row.phone_enc, added.phone)):
        assert clear.encode() not in blob
        assert blob[0] == 1
    assert row.resident_id_hash == cipher.blind_index(added.resident_id.upper(), RESIDENT_ID_PURPOSE)
    assert row.phone_hash == cipher.blind_index(added.phone, PHONE_PURPOSE)


async def test_a_sealed_field_copied_to_another_user_does_not_open(database: Database, add_user: AddUser) -> None:
    alice, bob = await add_user(1001, name="Alice"), await add_user(1002, name="Bob")
    async with database.engine.begin() as connection:
        alice_name = (await connection.execute(select(UserRow.name_enc).where(UserRow.id == alice.id))).scalar_one()
        await connection.execute(update(UserRow).where(UserRow.id == bob.id).values(name_enc=alice_name))
    async with database.unit_of_work() as uow:
        with pytest.raises(DecryptionError):
            await uow.users.get(bob.id)


async def test_consent_time_keeps_its_instant_across_offsets(
    database: Database, new_user: Callable[..., NewUser], now: datetime
) -> None:
    beijing = timezone(timedelta(hours=8))
    consented = datetime(2024, 3, 1, 16, 25, 30, 123456, tzinfo=beijing)
    async with database.unit_of_work() as uow:
        added = await uow.users.add(new_user(1001, consented_at=consented), now)
    async with database.unit_of_work() as uow:
        stored = await uow.users.get(added.id)
    assert stored.consented_at == consented
    assert stored.consented_at.utcoffset() == timedelta(0)
    assert stored.created_at == now and stored.created_at.tzinfo is not None
