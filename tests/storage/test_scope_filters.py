"""An administrator's scope is a filter in the query (region codes IN the scope's), on both databases."""
from __future__ import annotations

from datetime import date, datetime

from bot.regions import region_table
from rules.authority import codes_within
from rules.model import Colour, RiskArea, TravelRisk
from storage.database import Database

XIHU = codes_within(region_table(), "330106")
HANGZHOU = codes_within(region_table(), "330100")


async def _people(add_user) -> tuple[int, int, int]:
    inside = await add_user(1001, region_code="330106", phone="+8613800000001")
    neighbour = await add_user(1002, region_code="330108", phone="+8613800000002")
    city = await add_user(1003, region_code="330100", phone="+8613800000003")
    return inside.id, neighbour.id, city.id


async def test_citizen_lookups_keep_to_the_scope(database: Database, add_user) -> None:
    inside, neighbour, city = await _people(add_user)
    async with database.unit_of_work() as uow:
        assert [u.id for u in await uow.citizens.by_phone("+8613800000002", within=XIHU)] == []
        assert [u.id for u in await uow.citizens.by_phone("+8613800000002", within=HANGZHOU)] == [neighbour]
        assert [u.id for u in await uow.citizens.by_phone("+8613800000002")] == [neighbour]
        profile = await uow.users.get(inside)
        assert [u.id for u in await uow.citizens.by_resident_id(profile.resident_id, within=XIHU)] == [inside]
        first4, last4 = profile.resident_id[:4], profile.resident_id[-4:]
        assert inside in [u.id for u in await uow.citizens.by_masked_id(first4, last4, within=XIHU)]
        assert neighbour not in [u.id for u in await uow.citizens.by_masked_id(first4, last4, within=XIHU)]
        assert await uow.citizens.registered_in(inside, XIHU)
        assert not await uow.citizens.registered_in(city, XIHU)  # a city-level person is in no county
        assert await uow.citizens.registered_in(city, HANGZHOU)


async def test_audiences_and_counts_keep_to_the_scope(database: Database, add_user, today: date) -> None:
    await _people(add_user)
    async with database.unit_of_work() as uow:
        everyone = uow.deliveries.audience_select("everyone", None, XIHU)
        assert await uow.deliveries.count_audience(everyone) == 1
        region = uow.deliveries.audience_select("region", "33", HANGZHOU)
        assert await uow.deliveries.count_audience(region) == 3
        assert await uow.deliveries.count_audience(uow.deliveries.audience_select("everyone", None)) == 3
        by_region = await uow.stats.by_region(today, HANGZHOU)
        assert sorted(by_region) == ["330100", "330106", "330108"]
        assert sorted(await uow.stats.by_region(today, XIHU)) == ["330106"]
        assert sum(c.registered for c in (await uow.stats.by_region(today)).values()) == 3


async def test_organisations_and_risk_areas_keep_to_the_scope(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        xihu = await uow.organisations.request("Xihu Ltd", "91330106MA2XXXXXX1", 1, now)
        binjiang = await uow.organisations.request("Binjiang Ltd", "91330108MA2XXXXXX2", 1, now)
        await uow.risk_areas.add(RiskArea("330106", TravelRisk.HIGH, now.date()), by=1, now=now)
        await uow.risk_areas.add(RiskArea("330108", TravelRisk.HIGH, now.date()), by=1, now=now)
    async with database.unit_of_work() as uow:
        assert [o.id for o in await uow.organisations.pending(XIHU)] == [xihu.id]
        assert [o.id for o in await uow.organisations.pending(None)] == [xihu.id, binjiang.id]
        assert await uow.organisations.in_regions(xihu.id, XIHU)
        assert not await uow.organisations.in_regions(binjiang.id, XIHU)
        assert [e.area.code for e in await uow.risk_areas.entries(XIHU)] == ["330106"]
        assert len(await uow.risk_areas.entries()) == 2


async def test_histories_and_decisions_keep_to_the_scope(database: Database, add_user, make_answers, today: date,
                                                         now: datetime) -> None:
    inside, neighbour, _ = await _people(add_user)
    async with database.unit_of_work() as uow:
        for user_id in (inside, neighbour):
            await uow.declarations.upsert(user_id, today, make_answers(), now)
            await uow.decisions.add(user_id, Colour.RED, today, 3, "tracing", by=1, now=now)
    async with database.unit_of_work() as uow:
        assert [user_id async for user_id, _ in uow.declarations.histories(today, within=XIHU)] == [inside]
        assert sorted([user_id async for user_id, _ in uow.declarations.histories(today)]) == sorted([inside, neighbour])
        assert list(await uow.decisions.covering(today, today, within=XIHU)) == [inside]
