"""Organisations, managers, memberships, the staff views and the access log, on every backend."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from rules.model import Colour, Status
from rules.policy import NORMAL
from storage.database import Database
from storage.records import UserProfile
from tests.table_reads import access_log_count

TODAY = date(2024, 3, 1)


async def _approved(database: Database, now, manager: int = 777) -> int:
    async with database.unit_of_work() as uow:
        org = await uow.organisations.request("Acme Ltd", "91350100M000100Y43", manager, now)
        await uow.organisations.decide(org.id, approve=True, by=1, now=now, invite_code="ABCD2345")
        await uow.organisations.add_manager(org.id, manager, by=1, now=now)
        return org.id


async def test_requests_wait_and_are_decided_once(database: Database, now) -> None:
    async with database.unit_of_work() as uow:
        org = await uow.organisations.request("Acme Ltd", "91350100M000100Y43", 777, now)
        assert [o.id for o in await uow.organisations.pending()] == [org.id]
        assert (await uow.organisations.open_for_credit_code("91350100M000100Y43")).id == org.id
        decided = await uow.organisations.decide(org.id, approve=True, by=1, now=now, invite_code="CODE2345")
        assert decided.status == "approved" and decided.invite_code == "CODE2345" and decided.decided_by == 1
        assert await uow.organisations.decide(org.id, approve=False, by=1, now=now, invite_code=None) is None
        assert await uow.organisations.pending() == []
        assert (await uow.organisations.by_invite_code("CODE2345")).id == org.id
        assert await uow.organisations.rotate_invite(org.id, "NEWC2345")
        assert await uow.organisations.by_invite_code("CODE2345") is None


async def test_a_rejected_code_may_be_requested_again(database: Database, now) -> None:
    async with database.unit_of_work() as uow:
        org = await uow.organisations.request("Acme Ltd", "91350100M000100Y43", 777, now)
        await uow.organisations.decide(org.id, approve=False, by=1, now=now, invite_code=None)
        assert await uow.organisations.open_for_credit_code("91350100M000100Y43") is None
        assert await uow.organisations.by_invite_code("") is None


async def test_managers_of_approved_organisations_only(database: Database, now) -> None:
    org_id = await _approved(database, now)
    async with database.unit_of_work() as uow:
        pending = await uow.organisations.request("Other", "91350100M000100Y43", 778, now)
        await uow.organisations.add_manager(pending.id, 778, by=1, now=now)
        assert await uow.organisations.is_manager(org_id, 777)
        assert not await uow.organisations.is_manager(org_id, 778)
        assert not await uow.organisations.is_manager(pending.id, 778)  # not approved yet
        assert [o.id for o in await uow.organisations.managed_by(777)] == [org_id]
        assert not await uow.organisations.add_manager(org_id, 777, by=1, now=now)
        await uow.organisations.create_manager_invite(org_id, "MGR23456", by=777, now=now,
                                                      expires_at=now + timedelta(days=1))
        assert await uow.organisations.redeem_manager_invite("MGR23456", 779, now) == org_id
        assert await uow.organisations.redeem_manager_invite("MGR23456", 780, now) is None  # single use
        await uow.organisations.create_manager_invite(org_id, "OLD23456", by=777, now=now - timedelta(days=2),
                                                      expires_at=now - timedelta(days=1))
        assert await uow.organisations.redeem_manager_invite("OLD23456", 780, now) is None  # expired
        assert await uow.organisations.remove_manager(org_id, 777)
        assert not await uow.organisations.is_manager(org_id, 777)


async def test_join_leave_and_join_again(database: Database, add_user: Callable[..., Awaitable[UserProfile]], now) -> None:
    org_id = await _approved(database, now)
    user = await add_user(1001)
    async with database.unit_of_work() as uow:
        assert await uow.memberships.join(org_id, user.id, "v1", now)
        assert not await uow.memberships.join(org_id, user.id, "v1", now)
        assert await uow.memberships.is_member(org_id, user.id)
        assert [o.id for o in await uow.memberships.organisations_of(user.id)] == [org_id]
        assert await uow.memberships.leave(org_id, user.id, now)
        assert not await uow.memberships.leave(org_id, user.id, now)
        assert not await uow.memberships.is_member(org_id, user.id)
        assert await uow.memberships.join(org_id, user.id, "v2", now)
        assert await uow.memberships.is_member(org_id, user.id)


async def test_staff_views_show_only_masked_names_colours_and_declaring(
    database: Database, add_user: Callable[..., Awaitable[UserProfile]], make_answers, now
) -> None:
    org_id = await _approved(database, now)
    users = [await add_user(2000 + n, name=name) for n, name in enumerate(("张三丰", "Abigail", "李四", "王五"))]
    outsider = await add_user(2999, name="Outsider")
    async with database.unit_of_work() as uow:
        for user in users:
            await uow.memberships.join(org_id, user.id, "v1", now)
        await uow.memberships.leave(org_id, users[3].id, now)
        await uow.declarations.upsert(users[0].id, TODAY, make_answers(), now)
        await uow.declarations.upsert(users[1].id, TODAY - timedelta(days=2), make_answers(), now)
        await uow.declarations.upsert(outsider.id, TODAY, make_answers(), now)
        await uow.statuses.put(users[0].id, Status(Colour.GREEN, NORMAL, TODAY, None, evaluated_for=TODAY), now)
        await uow.statuses.put(users[1].id, Status(Colour.YELLOW, NORMAL, TODAY, None, evaluated_for=TODAY), now)
    async with database.unit_of_work() as uow:
        summary = await uow.memberships.summary(org_id, TODAY)
        assert (summary.members, summary.declared_today, summary.without_code) == (3, 1, 1)
        assert summary.by_colour == {Colour.GREEN: 1, Colour.YELLOW: 1, Colour.RED: 0}
        undeclared, total = await uow.memberships.undeclared(org_id, TODAY, offset=0, limit=10)
        assert total == 2 and [m.masked_name for m in undeclared] == ["Ab***", "李*"]
        assert undeclared[0].last_declared == TODAY - timedelta(days=2) and undeclared[1].last_declared is None
        page, total = await uow.memberships.undeclared(org_id, TODAY, offset=1, limit=1)
        assert total == 2 and [m.masked_name for m in page] == ["李*"]
        not_green, total = await uow.memberships.not_green(org_id, TODAY, offset=0, limit=10)
        assert total == 1 and not_green[0].colour is Colour.YELLOW
        everyone = [m async for m in uow.memberships.stream(org_id, TODAY, batch=2)]
        assert [(m.masked_name, m.colour, m.declared_today) for m in everyone] == [
            ("张**", Colour.GREEN, True), ("Ab***", Colour.YELLOW, False), ("李*", None, False)]


async def test_access_log_rows_per_member_read_and_queryable_by_user(
    database: Database, add_user: Callable[..., Awaitable[UserProfile]], now
) -> None:
    org_id = await _approved(database, now)
    first, second = await add_user(3001), await add_user(3002)
    async with database.unit_of_work() as uow:
        await uow.memberships.join(org_id, first.id, "v1", now)
        await uow.memberships.join(org_id, second.id, "v1", now)
        written = await uow.access_log.record(org_id, 777, "status_summary", now, uow.memberships.member_user_ids(org_id))
        assert written == 2
        assert await uow.access_log.record(org_id, 777, "status_list", now + timedelta(minutes=1), [first.id]) == 1
        assert await uow.access_log.record(org_id, 777, "status_list", now, []) == 0
    async with database.unit_of_work() as uow:
        seen = await uow.access_log.for_user(first.id)
        assert [(r.organisation_name, r.reader_telegram_id, r.what) for r in seen] == [
            ("Acme Ltd", 777, "status_list"), ("Acme Ltd", 777, "status_summary")]
        assert [r.what for r in await uow.access_log.for_user(second.id)] == ["status_summary"]
        assert await access_log_count(uow, org_id) == 3


async def test_the_reminder_can_be_claimed_once_a_day(database: Database, now) -> None:
    org_id = await _approved(database, now)
    async with database.unit_of_work() as uow:
        assert await uow.organisations.mark_reminded(org_id, TODAY)
        assert not await uow.organisations.mark_reminded(org_id, TODAY)
        assert await uow.organisations.mark_reminded(org_id, TODAY + timedelta(days=1))
