"""The retention job: old declarations go, what a current code rests on stays; other data by its own clock."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.jobs.retention import apply_retention
from rules.retention import keep_declarations_from
from bot.services.context import Services
from rules.evaluate import evaluate
from rules.model import Answers, Colour, Diagnosis, Symptom, TravelRisk
from storage.models import (
    AccessLogRow,
    CampaignRow,
    ConversationStateRow,
    DailyCountRow,
    DeliveryRow,
    LastUpdateRow,
    OrganisationRow,
)
from storage.records import Claim, ConversationState, NewUser
from tests.handlers.conftest import Harness, start_harness, stop_harness
from tests.table_reads import count_rows

TODAY = date(2026, 4, 20)
NOW = datetime(2026, 4, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
NORMAL = Answers(Decimal("36.5"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
FEVER = Answers(Decimal("38.5"), frozenset({Symptom.FEVER}), False, TravelRisk.NONE, Diagnosis.NONE)
CONTACT = Answers(Decimal("36.5"), frozenset(), True, TravelRisk.NONE, Diagnosis.NONE)


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    running.clock.set(NOW)
    yield running
    await stop_harness(running)


async def _user(services: Services, telegram_id: int, days: dict[int, Answers]) -> int:
    """A registered user with the given declarations (keyed by days before TODAY)."""
    async with services.database.unit_of_work() as uow:
        user = await uow.users.add(NewUser(telegram_id, "测试", f"11010519491231{telegram_id % 1000:03d}X",
                                           "13800138000", "330100", "v1", NOW), NOW)
        for back, answers in days.items():
            await uow.declarations.upsert(user.id, TODAY - timedelta(days=back), answers, NOW)
    return user.id


async def _days(services: Services, user_id: int) -> list[int]:
    async with services.database.unit_of_work() as uow:
        kept = await uow.declarations.list_between(user_id, date.min, TODAY)
    return sorted((TODAY - d.day).days for d in kept)


async def _status(services: Services, user_id: int):
    async with services.database.unit_of_work() as uow:
        history = await uow.declarations.list_between(user_id, date.min, TODAY)
    return evaluate(services.policy, history, TODAY)


async def test_old_declarations_of_a_green_code_are_deleted(harness: Harness) -> None:
    services = harness.services
    user_id = await _user(services, 30001, {back: NORMAL for back in range(40)})
    report = await apply_retention(services, TODAY, NOW)
    assert report["declarations"] == 11
    assert await _days(services, user_id) == list(range(29))  # 28 days back and today
    assert (await _status(services, user_id)).colour is Colour.GREEN


async def test_the_abnormal_day_behind_a_red_code_is_kept(harness: Harness) -> None:
    """A close contact 35 days ago, then normal days with gaps: still red. Deleting the contact
    day (the naive 28-day rule) would turn the code green, so it and everything after it stay."""
    services = harness.services
    history = {35: CONTACT, **{back: NORMAL for back in range(34, -1, -3)}}  # every third day: never 14 in a row
    user_id = await _user(services, 30002, history)
    before = await _status(services, user_id)
    assert before.colour is Colour.RED and before.since == TODAY - timedelta(days=35)

    naive = [d for d in await _declared(services, user_id) if (TODAY - d.day).days <= 28]
    assert evaluate(services.policy, naive, TODAY).colour is Colour.GREEN  # what must not happen

    report = await apply_retention(services, TODAY, NOW)
    assert report["declarations"] == 0
    assert await _days(services, user_id) == sorted(history)
    assert await _status(services, user_id) == before


async def test_a_running_streak_and_the_day_that_started_it_are_kept(harness: Harness) -> None:
    """Fever 31 days ago, then a missed day, and normal days since: only days before the fever go."""
    services = harness.services
    history = {40: NORMAL, 39: NORMAL, 31: FEVER, **{back: NORMAL for back in range(29, 24, -1)}}
    user_id = await _user(services, 30003, history)
    # Yellow still: the streak was broken by the days without a declaration after day 25.
    before = await _status(services, user_id)
    assert before.colour is Colour.YELLOW and before.since == TODAY - timedelta(days=31)
    assert keep_declarations_from(before, TODAY - timedelta(days=28)) == TODAY - timedelta(days=31)

    report = await apply_retention(services, TODAY, NOW)
    assert report["declarations"] == 2
    assert await _days(services, user_id) == [25, 26, 27, 28, 29, 31]
    assert await _status(services, user_id) == before


async def test_retention_days_can_be_given_by_hand(harness: Harness) -> None:
    services = harness.services
    user_id = await _user(services, 30004, {back: NORMAL for back in range(10)})
    report = await apply_retention(services, TODAY, NOW, retention_days=3)
    assert report["declarations"] == 6
    assert await _days(services, user_id) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="retention_days"):
        await apply_retention(services, TODAY, NOW, retention_days=0)


async def test_other_data_follows_its_own_retention(harness: Harness) -> None:
    services = harness.services
    user_id = await _user(services, 30005, {0: NORMAL})
    old, recent = NOW - timedelta(days=200), NOW - timedelta(days=2)
    async with services.database.unit_of_work() as uow:
        session = uow.retention._session
        organisation = (await session.execute(insert(OrganisationRow.__table__).values(
            name="Acme", credit_code="91330100MA27XYZ12A", status="approved", requested_by=1, requested_at=old)
            .returning(OrganisationRow.__table__.c.id))).scalar_one()
        campaign = (await session.execute(insert(CampaignRow.__table__).values(
            kind="broadcast", created_by=1, created_at=old, payload="{}", audience_kind="everyone", status="done",
            rate=25.0).returning(CampaignRow.__table__.c.id))).scalar_one()
        await session.execute(insert(DeliveryRow.__table__), [
            {"campaign_id": campaign, "telegram_id": 30005, "status": "sent", "updated_at": NOW - timedelta(days=31)},
            {"campaign_id": campaign, "telegram_id": 30006, "status": "sent", "updated_at": NOW - timedelta(days=29)},
        ])
        await session.execute(insert(AccessLogRow.__table__), [
            {"user_id": user_id, "organisation_id": organisation, "reader_telegram_id": 1, "what": "staff", "at": old},
            {"user_id": user_id, "organisation_id": organisation, "reader_telegram_id": 1, "what": "staff", "at": recent},
        ])
        await uow.conversations.save(ConversationState(30005, "register", "phone", {"resident_id": "x"}),
                                     NOW - timedelta(days=3))
        await uow.conversations.save(ConversationState(30006, "checkin", "symptoms", {}), NOW - timedelta(hours=5))
        await uow.statuses.put(user_id, await _green(services, uow, user_id), NOW)
        assert await uow.daily_counts.record_day(TODAY - timedelta(days=400), NOW) == 1
    report = await apply_retention(services, TODAY, NOW)
    assert (report["deliveries"], report["access_log"], report["conversation_states"]) == (1, 1, 1)
    async with services.database.unit_of_work() as uow:
        session = uow.retention._session
        assert (await session.execute(select(func.count()).select_from(DeliveryRow.__table__))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(AccessLogRow.__table__))).scalar_one() == 1
        assert [row.telegram_id for row in (await session.execute(select(ConversationStateRow.__table__))).all()] == [30006]
        # Anonymous counts are kept whatever their age.
        assert await count_rows(uow, DailyCountRow) == 1


async def _green(services: Services, uow, user_id: int):
    return evaluate(services.policy, await uow.declarations.list_between(user_id, date.min, TODAY), TODAY)


async def _declared(services: Services, user_id: int):
    async with services.database.unit_of_work() as uow:
        return await uow.declarations.list_between(user_id, date.min, TODAY)


async def test_what_orders_and_deduplicates_webhook_updates_is_kept_two_days(harness: Harness) -> None:
    services = harness.services
    async with services.database.unit_of_work() as uow:
        assert await uow.updates.claim(1, 30007, NOW - timedelta(days=3)) is Claim.FIRST
        assert await uow.updates.claim(2, 30008, NOW - timedelta(hours=30)) is Claim.FIRST
    report = await apply_retention(services, TODAY, NOW)
    assert (report["processed_updates"], report["last_updates"]) == (1, 1)
    async with services.database.unit_of_work() as uow:
        assert not await uow.updates.is_processed(1) and await uow.updates.is_processed(2)
        assert await count_rows(uow, LastUpdateRow) == 1
        # Forgotten: update 1 of person 30007 would run again; Telegram stopped redelivering it long ago.
        assert await uow.updates.claim(1, 30007, NOW) is Claim.FIRST
        assert await uow.updates.claim(1, 30008, NOW) is Claim.DUPLICATE
