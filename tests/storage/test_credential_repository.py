"""uow.credentials on every backend."""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from rules.model import Colour, Reason, Status
from storage.database import Database
from storage.records import CredentialRecord, CredentialStanding, UserProfile

AddUser = Callable[..., Awaitable[UserProfile]]


def _credential(user_id: int, issued_at: datetime, status_key: str = "green:2024-03-01", **changes: object) -> CredentialRecord:
    record = CredentialRecord(
        cti=secrets.token_hex(16),
        user_id=user_id,
        kid="k-2024-03",
        colour=Colour.GREEN,
        status_key=status_key,
        token="d2FzIGhlcmU" * 20,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(hours=24),
    )
    return replace(record, **changes)


async def test_add_then_get_round_trips_every_field(database: Database, add_user: AddUser, now: datetime) -> None:
    user = await add_user()
    record = _credential(
        user.id, now, colour=Colour.RED, superseded_at=now + timedelta(minutes=1),
        revoked_at=now + timedelta(minutes=2), telegram_file_id="AgACAgQAAxkBAAIB",
    )
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
        assert await uow.credentials.get("0" * 32) is None
    async with database.unit_of_work() as uow:
        assert await uow.credentials.get(record.cti) == record


async def test_duplicate_cti_is_refused(database: Database, add_user: AddUser, now: datetime) -> None:
    user = await add_user()
    record = _credential(user.id, now)
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
    with pytest.raises(IntegrityError):
        async with database.unit_of_work() as uow:
            await uow.credentials.add(record)


async def test_find_current_picks_the_newest_live_credential_for_the_status(
    database: Database, add_user: AddUser, now: datetime
) -> None:
    me, other = await add_user(1001), await add_user(1002)
    older = _credential(me.id, now - timedelta(hours=2))
    newest = _credential(me.id, now - timedelta(hours=1))
    async with database.unit_of_work() as uow:
        for record in (
            older,
            newest,
            _credential(me.id, now - timedelta(minutes=1), status_key="yellow:2024-03-01"),
            _credential(me.id, now - timedelta(minutes=2), superseded_at=now - timedelta(minutes=1)),
            _credential(me.id, now - timedelta(minutes=3), revoked_at=now - timedelta(minutes=1)),
            _credential(me.id, now - timedelta(minutes=4), expires_at=now),  # expires exactly now
            _credential(other.id, now),
        ):
            await uow.credentials.add(record)
    async with database.unit_of_work() as uow:
        assert await uow.credentials.find_current(me.id, "green:2024-03-01", now) == newest
        assert await uow.credentials.find_current(me.id, "red:2024-03-01", now) is None
        # Once both have expired there is nothing current.
        assert await uow.credentials.find_current(me.id, "green:2024-03-01", now + timedelta(days=2)) is None


async def test_supersede_others_marks_only_this_users_other_live_credentials(
    database: Database, add_user: AddUser, now: datetime
) -> None:
    me, other = await add_user(1001), await add_user(1002)
    keep = _credential(me.id, now)
    live_a = _credential(me.id, now - timedelta(hours=1))
    live_b = _credential(me.id, now - timedelta(hours=2), status_key="yellow:2024-02-29")
    revoked = _credential(me.id, now - timedelta(hours=3), revoked_at=now - timedelta(hours=1))
    expired = _credential(me.id, now - timedelta(days=2))
    foreign = _credential(other.id, now - timedelta(hours=1))
    async with database.unit_of_work() as uow:
        for record in (keep, live_a, live_b, revoked, expired, foreign):
            await uow.credentials.add(record)
    async with database.unit_of_work() as uow:
        assert await uow.credentials.supersede_others(me.id, keep.cti, now) == 2
    async with database.unit_of_work() as uow:
        superseded = {r.cti: (await uow.credentials.get(r.cti)).superseded_at for r in (keep, live_a, live_b, revoked, expired, foreign)}
        assert await uow.credentials.supersede_others(me.id, keep.cti, now) == 0
    assert superseded == {keep.cti: None, live_a.cti: now, live_b.cti: now, revoked.cti: None, expired.cti: None, foreign.cti: None}


async def test_set_file_id(database: Database, add_user: AddUser, now: datetime) -> None:
    user = await add_user()
    record = _credential(user.id, now)
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
        assert await uow.credentials.set_file_id(record.cti, "AgACAgQAAxkBAAIC") is True
        assert await uow.credentials.set_file_id("f" * 32, "AgACAgQAAxkBAAIC") is False
    async with database.unit_of_work() as uow:
        assert (await uow.credentials.get(record.cti)).telegram_file_id == "AgACAgQAAxkBAAIC"


async def test_revoked_or_superseded_unexpired(database: Database, add_user: AddUser, now: datetime) -> None:
    user = await add_user()
    revoked = _credential(user.id, now - timedelta(hours=3), revoked_at=now - timedelta(hours=1))
    superseded = _credential(user.id, now - timedelta(hours=5), superseded_at=now - timedelta(hours=1))
    async with database.unit_of_work() as uow:
        for record in (
            revoked,
            superseded,
            _credential(user.id, now),  # live
            _credential(user.id, now - timedelta(days=2), revoked_at=now - timedelta(days=1)),  # expired
        ):
            await uow.credentials.add(record)
    async with database.unit_of_work() as uow:
        withdrawn = await uow.credentials.withdrawn_since(None, now)
        assert await uow.credentials.withdrawn_since(None, now + timedelta(days=2)) == []
    # Ordered by expiry: the superseded one was issued earlier so it expires first.
    assert withdrawn == [(superseded.cti, superseded.expires_at), (revoked.cti, revoked.expires_at)]
    assert all(expires.tzinfo is not None for _, expires in withdrawn)


async def test_standings_report_each_known_credential_and_never_its_holders_current_colour(
    database: Database, add_user: AddUser, now: datetime
) -> None:
    with_status, without_status = await add_user(1001), await add_user(1002)
    live = _credential(with_status.id, now)
    superseded = _credential(with_status.id, now - timedelta(hours=1), superseded_at=now)
    revoked = _credential(without_status.id, now, revoked_at=now)
    async with database.unit_of_work() as uow:
        for record in (live, superseded, revoked):
            await uow.credentials.add(record)
        await uow.statuses.put(with_status.id, Status(colour=Colour.YELLOW, reason=Reason("fever_recent"),
                                                      since=now.date(), green_on=None, evaluated_for=now.date()), now)
    async with database.unit_of_work() as uow:
        standings = await uow.credentials.standings([live.cti, superseded.cti, revoked.cti, "0" * 32])
        assert await uow.credentials.standings([]) == {}
    assert set(standings) == {live.cti, superseded.cti, revoked.cti}, "an unknown id is simply absent"
    # Issue 9, item 13: the holder's colour now is not part of a credential's standing.
    assert standings[live.cti] == CredentialStanding(live.cti, with_status.id, superseded=False, revoked=False)
    assert standings[superseded.cti].superseded and not standings[superseded.cti].revoked
    assert standings[revoked.cti] == CredentialStanding(revoked.cti, without_status.id, superseded=False,
                                                        revoked=True)


async def test_an_erased_holders_unexpired_credential_stands_revoked(
    database: Database, add_user: AddUser, now: datetime
) -> None:
    user = await add_user(1003)
    record = _credential(user.id, now)
    async with database.unit_of_work() as uow:
        await uow.credentials.add(record)
    async with database.unit_of_work() as uow:
        await uow.erasure.forget(user, now)
    async with database.unit_of_work() as uow:
        [standing] = (await uow.credentials.standings([record.cti])).values()
        assert standing.revoked and standing.user_id == 0
        assert (await uow.credentials.get(record.cti)).revoked_at == now
        assert (record.cti, record.expires_at) in await uow.credentials.withdrawn_since(None, now)


async def test_withdrawn_since_and_its_count(database: Database, add_user: AddUser, now: datetime) -> None:
    user = await add_user(1004)
    early = _credential(user.id, now - timedelta(hours=2), revoked_at=now - timedelta(hours=1))
    late = _credential(user.id, now, superseded_at=now + timedelta(minutes=1))
    expired = _credential(user.id, now - timedelta(days=2), revoked_at=now - timedelta(days=2))
    live = _credential(user.id, now)
    async with database.unit_of_work() as uow:
        for record in (early, late, expired, live):
            await uow.credentials.add(record)
    async with database.unit_of_work() as uow:
        everything = await uow.credentials.withdrawn_since(None, now)
        assert {cti for cti, _ in everything} == {early.cti, late.cti}
        assert await uow.credentials.count_withdrawn(now) == 2
        assert await uow.credentials.withdrawn_since(now, now) == [(late.cti, late.expires_at)]
