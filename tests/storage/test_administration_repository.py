"""Audit log, decisions (sealed reasons), risk areas, and finding citizens by phone or masked ID."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from rules.model import Colour, RiskArea, TravelRisk
from storage.database import Database
from storage.models import DecisionRow, ResidentIdMaskRow
from storage.records import UserProfile
from tests.table_reads import audit_entries, count_rows

TODAY = date(2024, 3, 1)


async def test_audit_entries_are_kept_in_order_with_their_detail(database: Database, now) -> None:
    async with database.unit_of_work() as uow:
        await uow.audit.record(900001, "riskarea.add", now, target="region:420100", detail={"level": "high"})
        await uow.audit.record(20001, "denied", now, detail={"command": "stats"})
    async with database.unit_of_work() as uow:
        entries = await audit_entries(uow)
        assert [(e.actor_telegram_id, e.action, e.target, e.detail) for e in entries] == [
            (20001, "denied", None, {"command": "stats"}),
            (900001, "riskarea.add", "region:420100", {"level": "high"}),
        ]
        assert [e.action for e in await audit_entries(uow, action="denied")] == ["denied"]
        assert [e.action for e in await audit_entries(uow, actor=900001)] == ["riskarea.add"]


async def test_decisions_keep_their_reason_sealed_and_read_back(
    database: Database, add_user: Callable[..., Awaitable[UserProfile]], now
) -> None:
    user = await add_user(1001)
    async with database.unit_of_work() as uow:
        first = await uow.decisions.add(user.id, Colour.RED, TODAY, 14, "close contact (tracing #12)", by=9, now=now)
        second = await uow.decisions.add(user.id, Colour.GREEN, TODAY + timedelta(days=2), 1, "cleared", by=9, now=now)
    assert first.last_day == TODAY + timedelta(days=13) and second.sequence > first.sequence
    async with database.unit_of_work() as uow:
        assert await uow.decisions.for_user(user.id) == [first, second]
        covering = await uow.decisions.covering(TODAY + timedelta(days=20), TODAY + timedelta(days=30))
        assert covering == {}
        assert (await uow.decisions.covering(TODAY, TODAY))[user.id] == [first]
        raw = (await uow._session.execute(select(DecisionRow.reason_enc))).scalars().all()
    assert all(b"tracing" not in blob and b"cleared" not in blob for blob in raw)


async def test_invalid_decisions_write_nothing(database: Database, add_user, now) -> None:
    user = await add_user(1001)
    with pytest.raises(ValueError, match="decision.days"):
        async with database.unit_of_work() as uow:
            await uow.decisions.add(user.id, Colour.RED, TODAY, 0, "x", by=9, now=now)
    async with database.unit_of_work() as uow:
        assert await uow.decisions.for_user(user.id) == []


async def test_risk_areas_are_listed_ended_and_withdrawn(database: Database, now) -> None:
    async with database.unit_of_work() as uow:
        wuhan = await uow.risk_areas.add(RiskArea("420100", TravelRisk.HIGH, TODAY), by=9, now=now)
        future = await uow.risk_areas.add(RiskArea("330100", TravelRisk.MEDIUM, TODAY + timedelta(days=5)), by=9, now=now)
        assert await uow.risk_areas.end(wuhan, TODAY + timedelta(days=3), by=9, now=now)
        assert not await uow.risk_areas.end(wuhan, TODAY + timedelta(days=4), by=9, now=now)  # already ended by then
        assert not await uow.risk_areas.end(future, TODAY, by=9, now=now)  # not started: withdraw instead
        assert await uow.risk_areas.delete_unstarted(future, by=9, now=now)
    async with database.unit_of_work() as uow:
        listing = await uow.risk_areas.listing()
    assert [a.code for a in listing.in_force_on(TODAY + timedelta(days=2))] == ["420100"]
    assert listing.in_force_on(TODAY + timedelta(days=3)) == ()
    assert listing.in_force_on(TODAY + timedelta(days=6)) == ()


async def test_citizens_are_found_by_phone_full_id_or_masked_id(
    database: Database, add_user: Callable[..., Awaitable[UserProfile]], now
) -> None:
    alice = await add_user(1001, resident_id="11010519900307001X", phone="13800000001")
    bob = await add_user(1002, resident_id="110105199003070026", phone="13800000002")
    await add_user(1003, resident_id="33010619900101123X", phone="13800000003")
    async with database.unit_of_work() as uow:
        assert [u.id for u in await uow.citizens.by_phone("13800000002")] == [bob.id]
        assert await uow.citizens.by_phone("13900000000") == []
        assert [u.id for u in await uow.citizens.by_resident_id("11010519900307001x")] == [alice.id]
        assert [u.id for u in await uow.citizens.by_masked_id("1101", "001X")] == [alice.id]
        assert [u.id for u in await uow.citizens.by_masked_id("1101", "001x")] == [alice.id]
        assert await uow.citizens.by_masked_id("1101", "9999") == []
        assert await count_rows(uow, ResidentIdMaskRow) == 3
    late = await add_user(1004, resident_id="110105199003070018", phone="13800000004")
    async with database.unit_of_work() as uow:
        assert [u.id for u in await uow.citizens.by_masked_id("1101", "0018")] == [late.id]
        assert await uow.citizens.index_new_users() == 0  # each ID is decrypted for the index once
        stored = (await uow._session.execute(select(ResidentIdMaskRow.mask_hash))).scalars().all()
    assert len(stored) == 4 and all(len(digest) == 32 and b"1101" not in digest for digest in stored)
