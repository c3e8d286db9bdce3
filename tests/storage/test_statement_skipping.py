"""Statements a confirmation need not run: the risk-area list per process, decisions when there are
none, the status upsert when nothing changed. Each is skipped on what the sender's load (one query)
read in the same transaction; a second process (another Database) never uses a stale list."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event

from rules.model import Colour, Reason, RiskArea, Status, TravelRisk
from storage.database import Database
from storage.encryption import FieldCipher
from storage.records import NewUser

AREA = RiskArea("110105", TravelRisk.HIGH, date(2024, 2, 1))


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL the database runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(" ".join(statement.split()).lower())

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _touching(seen: list[str], table: str, verb: str) -> list[str]:
    return [s for s in seen if s.startswith(verb) and f" {table}" in s]


async def test_the_risk_area_list_is_kept_per_process_and_never_stale_across_processes(
        database_url: str, cipher: FieldCipher, now, new_user: Callable[..., NewUser]) -> None:
    first, second = Database(database_url, cipher), Database(database_url, cipher)  # two processes
    try:
        async with first.unit_of_work() as uow:
            await uow.users.add(new_user(1), now)
        for _ in range(2):
            async with first.unit_of_work() as uow:
                await uow.actors.load(1)
                with statements(first) as seen:
                    assert (await uow.risk_areas.listing()).areas == ()
        assert _touching(seen, "risk_areas", "select") == [] and seen == []  # the second turn: from memory

        async with second.unit_of_work() as uow:  # the other process lists an area
            await uow.actors.load(1)
            assert (await uow.risk_areas.listing()).areas == ()
            await uow.risk_areas.add(AREA, by=9, now=now)
            assert (await uow.risk_areas.listing()).areas == (AREA,)  # its own change, in its own turn

        async with first.unit_of_work() as uow:  # the first process's next turn sees it
            await uow.actors.load(1)
            assert (await uow.risk_areas.listing()).areas == (AREA,)
        async with second.unit_of_work() as uow:
            entry = (await uow.risk_areas.entries())[0]
            assert await uow.risk_areas.end(entry.id, date(2024, 2, 10), by=9, now=now)
        async with first.unit_of_work() as uow:  # an ended listing too
            await uow.actors.load(1)
            [ended] = (await uow.risk_areas.listing()).areas
            assert ended.ends == date(2024, 2, 10)
        # Without the sender's load (a job), the counter is read on its own: still never stale.
        async with first.unit_of_work() as uow:
            assert (await uow.risk_areas.listing()).areas == (ended,)
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_decisions_query_is_skipped_for_someone_with_none(
        database: Database, now, new_user: Callable[..., NewUser]) -> None:
    async with database.unit_of_work() as uow:
        user = await uow.users.add(new_user(2), now)
    async with database.unit_of_work() as uow:
        await uow.actors.load(2)
        with statements(database) as seen:
            assert await uow.decisions.for_user(user.id) == []
        assert seen == []
        decision = await uow.decisions.add(user.id, Colour.RED, date(2024, 3, 1), 7, "ordered", by=9, now=now)
        assert await uow.decisions.for_user(user.id) == [decision]  # added in this turn: read
    async with database.unit_of_work() as uow:
        await uow.actors.load(2)
        with statements(database) as seen:
            assert await uow.decisions.for_user(user.id) == [decision]
        assert len(_touching(seen, "decisions", "select")) == 1


async def test_the_cards_request_line_needs_no_query_for_someone_without_a_request(
        database: Database, now, new_user: Callable[..., NewUser]) -> None:
    from rules.corrections import Disputed

    async with database.unit_of_work() as uow:
        user = await uow.users.add(new_user(3), now)
    async with database.unit_of_work() as uow:
        await uow.actors.load(3)
        with statements(database) as seen:
            assert await uow.corrections.latest_for(user.id) is None
        assert seen == []
        filed = await uow.corrections.file(user.id, "330106", Disputed.COLOUR, None, "wrong", None, now)
        assert await uow.corrections.latest_for(user.id) == filed  # filed in this turn: read
    async with database.unit_of_work() as uow:
        await uow.actors.load(3)
        with statements(database) as seen:
            assert await uow.corrections.latest_for(user.id) == filed
        assert len(_touching(seen, "correction_requests", "select")) == 1


async def test_an_unchanged_status_is_not_written_again(
        database: Database, now, new_user: Callable[..., NewUser]) -> None:
    async with database.unit_of_work() as uow:
        user = await uow.users.add(new_user(3), now)
    status = Status(Colour.GREEN, Reason("normal"), date(2024, 3, 1), None, evaluated_for=date(2024, 3, 1))
    async with database.unit_of_work() as uow:
        await uow.actors.load(3)
        with statements(database) as seen:
            await uow.statuses.put(user.id, status, now)  # none stored yet: written
        assert len(_touching(seen, "statuses", "insert")) == 1
    async with database.unit_of_work() as uow:
        await uow.actors.load(3)
        with statements(database) as seen:
            await uow.statuses.put(user.id, status, now + timedelta(hours=1))  # the same again: skipped
            assert seen == []
            yellow = Status(Colour.YELLOW, Reason("symptoms"), date(2024, 3, 1), date(2024, 3, 8),
                            evaluated_for=date(2024, 3, 1))
            await uow.statuses.put(user.id, yellow, now + timedelta(hours=2))  # changed: written
            await uow.statuses.put(user.id, yellow, now + timedelta(hours=3))  # and then the same: skipped
        assert len(_touching(seen, "statuses", "insert")) == 1
    async with database.unit_of_work() as uow:
        stored = await uow.statuses.get(user.id)
    assert stored is not None and stored.colour is Colour.YELLOW and stored.updated_at == now + timedelta(hours=2)


async def test_readings_staff_and_appointments_need_no_query_for_someone_with_none(
        database: Database, now, new_user: Callable[..., NewUser]) -> None:
    """The Mini App asks "may they scan?" on every status, and every evaluation reads the readings: for
    someone with no reading, no checkpoint appointment and no administrator appointment, none is queried."""
    from decimal import Decimal

    from rules.authority import Role

    async with database.unit_of_work() as uow:
        user = await uow.users.add(new_user(4), now)
        checkpoint = await uow.checkpoints.create("Gate 1", organisation_id=None, region_code="330100", by=9, now=now)
    async with database.unit_of_work() as uow:
        await uow.actors.load(4)
        with statements(database) as seen:
            assert await uow.checkpoints.readings_for(user.id, now.date()) == []
            assert await uow.checkpoints.appointed_at(4) == []
            assert await uow.administrators.held_by(4) == []
        assert seen == []
        # Written in this turn: read from then on.
        await uow.checkpoints.add_reading(user.id, checkpoint.id, 9, Decimal("37.9"), now.date(), now)
        await uow.checkpoints.add_staff(checkpoint.id, 4, by=9, now=now)
        appointment = await uow.administrators.appoint(4, Role.VIEWER, "330100", by=9, now=now)
        assert [r.temperature for r in await uow.checkpoints.readings_for(user.id, now.date())] == [Decimal("37.9")]
        assert [c.id for c in await uow.checkpoints.appointed_at(4)] == [checkpoint.id]
        assert await uow.administrators.held_by(4) == [appointment]
    async with database.unit_of_work() as uow:
        await uow.actors.load(4)
        with statements(database) as seen:
            assert len(await uow.checkpoints.readings_for(user.id, now.date())) == 1
            assert len(await uow.checkpoints.appointed_at(4)) == 1
            assert await uow.administrators.held_by(4) == [appointment]
        assert len(seen) == 3
    async with database.unit_of_work() as uow:  # another person's load says nothing about this one
        await uow.actors.load(5)
        assert len(await uow.checkpoints.appointed_at(4)) == 1 and await uow.administrators.held_by(4) == [appointment]
