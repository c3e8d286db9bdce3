"""uow.declarations and uow.statuses on every backend."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from rules.model import Answers, Colour, Declaration, Diagnosis, Reason, Status, Symptom, TravelRisk
from storage.database import Database
from storage.errors import DecryptionError
from storage.models import DeclarationRow, StatusRow, UserRow
from storage.records import StoredStatus, UserProfile

AddUser = Callable[..., Awaitable[UserProfile]]


async def test_upsert_reports_whether_it_replaced(
    database: Database, add_user: AddUser, make_answers, today: date, now: datetime
) -> None:
    user = await add_user()
    async with database.unit_of_work() as uow:
        assert await uow.declarations.upsert(user.id, today, make_answers("36.5"), now) is False
        assert await uow.declarations.upsert(user.id, today - timedelta(days=1), make_answers(), now) is False
    async with database.unit_of_work() as uow:
        assert await uow.declarations.upsert(user.id, today, make_answers("37.8", Symptom.COUGH), now) is True


async def test_replacing_keeps_one_row_with_the_new_answers(
    database: Database, add_user: AddUser, make_answers, today: date, now: datetime
) -> None:
    user = await add_user()
    later = now + timedelta(hours=3)
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(user.id, today, make_answers("36.5"), now)
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(user.id, today, make_answers("37.8", Symptom.COUGH, Symptom.FEVER), later)
    async with database.unit_of_work() as uow:
        assert await uow.declarations.list_between(user.id, today, today) == [
            Declaration(today, make_answers("37.8", Symptom.COUGH, Symptom.FEVER))
        ]
    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(DeclarationRow.created_at, DeclarationRow.updated_at))).all()
    assert rows == [(now, later)]


async def test_list_between_is_inclusive_ordered_and_per_user(
    database: Database, add_user: AddUser, make_answers, today: date, now: datetime
) -> None:
    me, other = await add_user(1001), await add_user(1002)
    days = [today - timedelta(days=n) for n in (0, 3, 1, 5, 2)]
    async with database.unit_of_work() as uow:
        for n, day in enumerate(days):
            await uow.declarations.upsert(me.id, day, make_answers(f"36.{n}"), now)
        await uow.declarations.upsert(other.id, today - timedelta(days=2), make_answers("39.0"), now)
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    async with database.unit_of_work() as uow:
        listed = await uow.declarations.list_between(me.id, first, last)
        assert await uow.declarations.list_between(me.id, today + timedelta(days=1), today + timedelta(days=9)) == []
    expected_temps = {today - timedelta(days=3): "36.1", today - timedelta(days=2): "36.4", today - timedelta(days=1): "36.2"}
    assert [d.day for d in listed] == sorted(expected_temps)
    assert [str(d.answers.temperature) for d in listed] == [expected_temps[d.day] for d in listed]


async def test_answers_round_trip_exactly(database: Database, add_user: AddUser, today: date, now: datetime) -> None:
    user = await add_user()
    given = Answers(
        temperature=Decimal("38.2"),
        symptoms=frozenset({Symptom.FEVER, Symptom.LOSS_OF_TASTE_OR_SMELL}),
        close_contact=True,
        travel=TravelRisk.HIGH,
        diagnosis=Diagnosis.SUSPECTED,
    )
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(user.id, today, given, now)
    async with database.unit_of_work() as uow:
        assert (await uow.declarations.list_between(user.id, today, today))[0].answers == given


async def test_list_between_refuses_a_reversed_range(database: Database, add_user: AddUser, today: date) -> None:
    user = await add_user()
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="first_day: must not be after last_day"):
            await uow.declarations.list_between(user.id, today, today - timedelta(days=1))


async def test_last_day(database: Database, add_user: AddUser, make_answers, today: date, now: datetime) -> None:
    user = await add_user()
    async with database.unit_of_work() as uow:
        assert await uow.declarations.last_day(user.id) is None
        for offset in (4, 1, 7):
            await uow.declarations.upsert(user.id, today - timedelta(days=offset), make_answers(), now)
        assert await uow.declarations.last_day(user.id) == today - timedelta(days=1)


async def test_answers_are_sealed_and_bound_to_their_day(
    database: Database, add_user: AddUser, make_answers, today: date, now: datetime
) -> None:
    user = await add_user()
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(user.id, today, make_answers("38.9", Symptom.FEVER), now)
    async with database.engine.begin() as connection:
        blob = (await connection.execute(select(DeclarationRow.answers_enc))).scalar_one()
        assert b"38.9" not in blob and b"fever" not in blob
        # Replaying the sealed answers onto another day must be detected.
        await connection.execute(update(DeclarationRow).values(day=today - timedelta(days=1)))
    async with database.unit_of_work() as uow:
        with pytest.raises(DecryptionError):
            await uow.declarations.list_between(user.id, today - timedelta(days=1), today)


async def test_deleting_a_user_cascades(
    database: Database, add_user: AddUser, make_answers, today: date, now: datetime
) -> None:
    user = await add_user()
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(user.id, today, make_answers(), now)
        await uow.statuses.put(user.id, _status(Colour.GREEN, today), now)
    async with database.engine.begin() as connection:
        await connection.execute(delete(UserRow).where(UserRow.id == user.id))
        counts = [
            (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (DeclarationRow, StatusRow)
        ]
    assert counts == [0, 0]


async def test_a_declaration_needs_an_existing_user(database: Database, make_answers, today: date, now: datetime) -> None:
    with pytest.raises(IntegrityError):
        async with database.unit_of_work() as uow:
            await uow.declarations.upsert(999_999, today, make_answers(), now)


def _status(colour: Colour, today: date, green_on: date | None = None, evaluated_for: date | None = None) -> Status:
    return Status(
        colour=colour,
        reason=Reason("fever_recent", (("days", "3"),)),
        since=today - timedelta(days=2),
        green_on=green_on,
        evaluated_for=today if evaluated_for is None else evaluated_for,
    )


async def test_status_put_then_get(database: Database, add_user: AddUser, today: date, now: datetime) -> None:
    user = await add_user()
    async with database.unit_of_work() as uow:
        assert await uow.statuses.get(user.id) is None
        stored = await uow.statuses.put(user.id, _status(Colour.YELLOW, today, green_on=today + timedelta(days=5)), now)
    expected = StoredStatus(
        user_id=user.id,
        colour=Colour.YELLOW,
        reason_code="fever_recent",
        since=today - timedelta(days=2),
        green_on=today + timedelta(days=5),
        evaluated_for=today,
        updated_at=now,
    )
    assert stored == expected
    async with database.unit_of_work() as uow:
        assert await uow.statuses.get(user.id) == expected


async def test_status_put_replaces(database: Database, add_user: AddUser, today: date, now: datetime) -> None:
    user = await add_user()
    tomorrow, later = today + timedelta(days=1), now + timedelta(days=1)
    async with database.unit_of_work() as uow:
        await uow.statuses.put(user.id, _status(Colour.RED, today, green_on=today + timedelta(days=14)), now)
    async with database.unit_of_work() as uow:
        await uow.statuses.put(user.id, _status(Colour.GREEN, today, evaluated_for=tomorrow), later)
    async with database.unit_of_work() as uow:
        got = await uow.statuses.get(user.id)
    assert (got.colour, got.green_on, got.evaluated_for, got.updated_at) == (Colour.GREEN, None, tomorrow, later)


async def test_status_needs_evaluated_for(database: Database, add_user: AddUser, today: date, now: datetime) -> None:
    user = await add_user()
    unevaluated = Status(colour=Colour.GREEN, reason=Reason("all_normal"), since=today, green_on=None)
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="status.evaluated_for: required"):
            await uow.statuses.put(user.id, unevaluated, now)
        assert await uow.statuses.get(user.id) is None


async def test_declarations_are_opened_for_the_export_and_the_chart_by_their_own_repository(
    database: Database, add_user: AddUser, make_answers, today: date, now: datetime
) -> None:
    me, other = await add_user(1001), await add_user(1002)
    yesterday = today - timedelta(days=1)
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(me.id, today, make_answers("36.5"), now)
        await uow.declarations.upsert(me.id, yesterday, make_answers("37.9", Symptom.COUGH), now)
        await uow.declarations.upsert(other.id, yesterday, make_answers("36.6"), now)
    async with database.unit_of_work() as uow:
        await uow.declarations.upsert(me.id, today, make_answers("36.7"), now + timedelta(hours=1))
    async with database.unit_of_work() as uow:
        stored = await uow.declarations.stored_for(me.id)
        histories = [item async for item in uow.declarations.histories(today, batch=1)]
    assert [(d.day, d.answers, d.revision) for d in stored] == [
        (yesterday, make_answers("37.9", Symptom.COUGH), 1), (today, make_answers("36.7"), 2)]
    assert stored[1].created_at == now and stored[1].updated_at == now + timedelta(hours=1)
    assert histories == [
        (me.id, [Declaration(yesterday, make_answers("37.9", Symptom.COUGH)), Declaration(today, make_answers("36.7"))]),
        (other.id, [Declaration(yesterday, make_answers("36.6"))]),
    ]
