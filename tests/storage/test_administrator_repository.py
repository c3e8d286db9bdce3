"""Appointed administrators and their invitations, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from rules.authority import Role
from storage.database import Database
from storage.models import AdministratorInviteRow

CODE = "ABCDEFGHJKLM"


async def test_appointments_are_listed_by_holder_role_and_scope(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        county = await uow.administrators.appoint(11, Role.HEALTH_AUTHORITY, "330106", by=1, now=now)
        city = await uow.administrators.appoint(12, Role.REVIEWER, "330100", by=1, now=now)
        again = await uow.administrators.appoint(11, Role.HEALTH_AUTHORITY, "330106", by=1, now=now)
        assert again == county  # the same live appointment is not recorded twice
    async with database.unit_of_work() as uow:
        assert await uow.administrators.held_by(11) == [county]
        assert await uow.administrators.holding(Role.REVIEWER, None) == [city]
        assert await uow.administrators.holding(Role.REVIEWER, {"330106"}) == []
        assert await uow.administrators.under({"330100", "330106"}) == [city, county]
        assert await uow.administrators.under({"330108"}) == []
        assert await uow.administrators.get(county.id) == county


async def test_a_revoked_appointment_is_kept_but_no_longer_held(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        appointment = await uow.administrators.appoint(11, Role.VIEWER, "330106", by=1, now=now)
        assert await uow.administrators.revoke(appointment.id, by=1, now=now)
        assert not await uow.administrators.revoke(appointment.id, by=1, now=now)  # once
    async with database.unit_of_work() as uow:
        assert await uow.administrators.held_by(11) == []
        kept = await uow.administrators.get(appointment.id)
        assert kept is not None and kept.revoked_at == now


async def test_an_invitation_is_single_use_and_expires(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.administrators.create_invite(CODE, Role.REVIEWER, "330106", by=1, now=now,
                                               expires_at=now + timedelta(hours=1))
    async with database.unit_of_work() as uow:
        offered = await uow.administrators.pending_invite(CODE, now)
        assert offered is not None and (offered.role, offered.scope, offered.created_by) == (Role.REVIEWER, "330106", 1)
        assert await uow.administrators.pending_invite(CODE, now + timedelta(hours=1)) is None  # expired
        assert await uow.administrators.pending_invite("ZZZZZZZZZZZZ", now) is None
        redeemed = await uow.administrators.redeem_invite(CODE, 22, now)
        assert redeemed == offered
    async with database.unit_of_work() as uow:
        assert await uow.administrators.redeem_invite(CODE, 23, now) is None  # used
        assert await uow.administrators.pending_invite(CODE, now) is None
        # Only a keyed digest of the code is stored, never the code itself.
        digests = (await uow._session.execute(select(AdministratorInviteRow.code_digest))).scalars().all()
        assert digests and all(CODE.encode() not in digest for digest in digests)


async def test_an_expired_invitation_cannot_be_redeemed(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.administrators.create_invite(CODE, Role.VIEWER, "330100", by=1, now=now,
                                               expires_at=now + timedelta(minutes=5))
    async with database.unit_of_work() as uow:
        assert await uow.administrators.redeem_invite(CODE, 22, now + timedelta(minutes=5)) is None


async def test_two_acceptances_of_one_invitation_make_one_administrator(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.administrators.create_invite(CODE, Role.VIEWER, "330100", by=1, now=now,
                                               expires_at=now + timedelta(hours=1))

    async def accept(telegram_id: int) -> bool:
        async with database.unit_of_work() as uow:
            return await uow.administrators.redeem_invite(CODE, telegram_id, now) is not None

    results = await asyncio.gather(accept(31), accept(32))
    assert sorted(results) == [False, True]
