"""Dependants in storage: the person-id range, the claim, the guardian links, and migration 0011."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from alembic import command
from sqlalchemy import column, table
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from rules.family import is_dependant_id
from rules.model import Answers
from storage.database import Database, create_engine
from storage.encryption import FieldCipher
from storage.errors import AlreadyLinked, ResidentIdTaken, StorageError
from storage.migrate import alembic_config, upgrade
from storage.models import Base
from storage.records import NewUser
from storage.repositories.base import dump_json


async def test_a_dependant_gets_a_person_id_telegram_never_uses(database: Database, now: datetime,
                                                               new_user: Callable[..., NewUser]) -> None:
    async with database.unit_of_work() as uow:
        guardian = await uow.users.add(new_user(1001), now)
        dependant = await uow.users.add_dependant(new_user(0, resident_id="310115199212124560", phone=""), now)
        assert is_dependant_id(dependant.telegram_id) and not dependant.active
        with pytest.raises(StorageError):  # registration refuses the range
            await uow.users.add(new_user(dependant.telegram_id - 1, resident_id="33010619900101123X"), now)
        with pytest.raises(ResidentIdTaken):  # one record per resident ID, dependants included
            await uow.users.add_dependant(new_user(0, resident_id="310115199212124560"), now)
        link = await uow.family.link(guardian.id, dependant.id, relation="parent", basis="attested",
                                     notice_version="v1", agreed_at=now, now=now)
        with pytest.raises(AlreadyLinked):
            await uow.family.link(guardian.id, dependant.id, relation="parent", basis="attested",
                                  notice_version="v1", agreed_at=now, now=now)
        assert await uow.family.count_full(guardian.id) == 1
        assert (await uow.users.dependant_with_resident_id("310115199212124560")).id == dependant.id
        assert await uow.users.dependant_with_resident_id("11010519491231002X") is None  # a citizen's own
    async with database.unit_of_work() as uow:
        claimed = await uow.users.claim(dependant.id, new_user(2002, resident_id="310115199212124560"))
        assert claimed.telegram_id == 2002 and claimed.id == dependant.id
        await uow.family.make_read_only(dependant.id)
    async with database.unit_of_work() as uow:
        assert (await uow.users.get_by_telegram_id(2002)).phone == "+8613800002002"
        [after] = await uow.family.of_dependant(dependant.id)
        assert after.id == link.id and not after.full


def _upgrade_to(connection: Connection, config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_declarations_stored_before_0011_keep_their_answers_and_are_not_by_proxy(blank_url: str,
                                                                                        now: datetime) -> None:
    cipher = FieldCipher(bytes(32))
    answers = Answers.from_json({"temperature": "36.6", "symptoms": [], "close_contact": False, "travel": "none",
                                 "diagnosis": "none"})
    day = date(2026, 3, 2)
    config = alembic_config(blank_url)
    engine = create_engine(blank_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, config, "0006_status_policy_version")
            users = Base.metadata.tables["users"]
            # The columns 0006 has (the model's table would add by_proxy's default).
            declarations = table("declarations", *(column(name) for name in (
                "id", "user_id", "day", "answers_enc", "revision", "created_at", "updated_at")))
            await connection.execute(users.insert().values(
                id=1, telegram_id=7, subject_id="sub", name_enc=b"x", resident_id_enc=b"x", resident_id_hash=b"1" * 32,
                phone_enc=b"x", phone_hash=b"2" * 32, region_code="330100", consent_version="v", consented_at=now,
                created_at=now))
            await connection.execute(declarations.insert().values(
                id=1, user_id=1, day=day, answers_enc=cipher.seal(dump_json(answers.to_json()),
                                                                   f"declarations.answers:1:{day.isoformat()}".encode()),
                revision=1, created_at=now, updated_at=now))
    finally:
        await engine.dispose()
    await upgrade(blank_url)
    db = Database(blank_url, cipher)
    try:
        async with db.unit_of_work() as uow:
            [stored] = await uow.declarations.stored_for(1)
            assert stored.answers == answers and stored.by_proxy is False
            assert await uow.family.of_guardian(1) == []
    finally:
        await db.dispose()
