"""Consents, reminders, daily counts, erasure and withdrawn credentials, on every backend."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, Table

from rules.evaluate import evaluate
from rules.model import Colour
from bot.policy_file import load_default_policy
from storage.database import Database
from storage.models.personal import Personal, personal
from storage.records import CredentialRecord, ReminderChoice, UserProfile
from storage.repositories.erasure import personal_columns
from storage.repositories.reminders import ReminderRepository

AddUser = Callable[..., Awaitable[UserProfile]]


async def test_consent_history_starts_with_registration_and_records_each_renewal(
        database: Database, add_user: AddUser, now: datetime) -> None:
    user = await add_user(1001)
    async with database.unit_of_work() as uow:
        assert [(c.version, c.accepted_at) for c in await uow.consents.history(user)] == [("2024-01", user.consented_at)]
        await uow.consents.accept(user, "2024-06", now)
    async with database.unit_of_work() as uow:
        renewed = await uow.users.get(user.id)
        assert (renewed.consent_version, renewed.consented_at) == ("2024-06", now)
        assert [c.version for c in await uow.consents.history(renewed)] == ["2024-01", "2024-06"]
        await uow.consents.accept(renewed, "2024-06", now + timedelta(days=1))  # same version: no change
        assert len(await uow.consents.history(renewed)) == 2
        with pytest.raises(ValueError, match="version"):
            await uow.consents.accept(renewed, "", now)


async def test_reminders_are_marked_once_a_day_for_those_due(database: Database, add_user: AddUser,
                                                             now: datetime, today: date, make_answers) -> None:
    default_user, early, late, off, declared, inactive = [await add_user(2000 + n) for n in range(6)]
    async with database.unit_of_work() as uow:
        reminders = uow.reminders
        await reminders.set(early.id, ReminderChoice(True, "07:00"), now)
        await reminders.set(late.id, ReminderChoice(True, "20:00"), now)
        await reminders.set(off.id, ReminderChoice(False, None), now)
        await uow.declarations.upsert(declared.id, today, make_answers(), now)
        await uow.users.set_active(inactive.telegram_id, False)

    async def due_at(local_time: str, batch: str, day: date = today) -> set[int]:
        async with database.unit_of_work() as uow:
            marked = await uow.reminders.mark_due(today=day, local_time=local_time, default_time="08:00",
                                                         batch=batch, now=now)
            session = uow.reminders._session
            ids = set((await session.execute(ReminderRepository.batch_recipients(batch))).scalars())
        assert marked == len(ids)
        return ids

    assert await due_at("06:59", "a") == set()
    assert await due_at("07:00", "b") == {early.telegram_id}
    assert await due_at("12:00", "c") == {default_user.telegram_id}  # early already had today's
    assert await due_at("23:59", "d") == {late.telegram_id}
    assert await due_at("23:59", "e") == set()
    assert await due_at("08:00", "f", today + timedelta(days=1)) == {
        early.telegram_id, default_user.telegram_id, declared.telegram_id}
    async with database.unit_of_work() as uow:
        assert await uow.reminders.get(early.id) == ReminderChoice(True, "07:00")  # choice kept
        assert await uow.reminders.get(default_user.id) == ReminderChoice()
        with pytest.raises(ValueError, match="remind_at"):
            await uow.reminders.set(early.id, ReminderChoice(True, "7:00"), now)


async def test_daily_counts_hold_numbers_only_and_can_be_recomputed(database: Database, add_user: AddUser,
                                                                     now: datetime, today: date, make_answers) -> None:
    policy = load_default_policy()
    people = [await add_user(3000 + n, region_code=region) for n, region in enumerate(("110105", "110105", "310115"))]
    async with database.unit_of_work() as uow:
        for person, temperature in zip(people[:2], ("38.0", "36.5")):  # the third never declared: no code
            await uow.declarations.upsert(person.id, today, make_answers(temperature), now)
            history = await uow.declarations.list_between(person.id, date.min, today)
            await uow.statuses.put(person.id, evaluate(policy, history, today), now)
        assert await uow.daily_counts.record_day(today, now) == 2
        assert await uow.daily_counts.record_day(today, now) == 2  # replaces, never adds up
        rows = await uow.daily_counts.between(today, today)
    assert [(r.region_code, r.colour, r.codes, r.declared) for r in rows] == [
        ("110105", "green", 1, 1), ("110105", "yellow", 1, 1)]


def test_personal_columns_are_found_from_the_schema_alone() -> None:
    metadata = MetaData()
    users = Table("users", metadata, Column("id", Integer, primary_key=True, info=personal(Personal.USER)))
    Table("pets", metadata, Column("id", Integer, primary_key=True),
          Column("owner_id", Integer, ForeignKey(users.c.id), info=personal(Personal.USER)),
          Column("vet_telegram_id", BigInteger, info=personal(Personal.ACTOR)),
          Column("adopted_by", BigInteger, info=personal(Personal.ACTOR)), Column("legs", Integer))
    Table("greetings", metadata, Column("telegram_id", BigInteger, primary_key=True, info=personal(Personal.TELEGRAM)))
    found = {(table.name, column.name, kind) for table, column, kind in personal_columns(metadata.sorted_tables)}
    assert found == {("pets", "owner_id", "user"), ("pets", "vet_telegram_id", "actor"),
                     ("pets", "adopted_by", "actor"), ("greetings", "telegram_id", "telegram")}


async def test_withdrawn_credentials_answer_for_erased_users(database: Database, add_user: AddUser,
                                                             now: datetime) -> None:
    user = await add_user(4001)
    record = CredentialRecord("c0ffee", user.id, "kid1", Colour.GREEN, "k", "token", now, now + timedelta(days=1))
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
        await uow.erasure.forget(user, now)
    async with database.unit_of_work() as uow:
        found = await uow.credentials.get("c0ffee")
        assert found is not None and found.revoked_at == now and found.token == ""
        assert dict(await uow.credentials.withdrawn_since(None, now)) == {"c0ffee": record.expires_at}
        assert await uow.withdrawn.delete_expired(now + timedelta(days=2)) == 1
        assert await uow.credentials.get("c0ffee") is None
