"""Audiences and campaign creation: the public API other features (reminders) build on."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.jobs.reminders import REMINDER, ReminderPayload
from bot.services.administration.broadcasts import BROADCAST_CAMPAIGN, BroadcastPayload
from bot.services.delivery import Audience, campaign_progress, count_audience, progress_text, start_campaign

from storage.models import UserRow
from tests.handlers.conftest import Harness, start_harness, stop_harness
from tests.handlers.test_org_fixtures import add_citizens

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    yield running
    await stop_harness(running)


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [("nobody", None, "kind"), ("region", "3", "value"), ("region", "33a", "value"), ("organisation", "x", "value"),
     ("colour", "blue", "value"), ("users", None, "select")],
)
def test_bad_audiences_are_refused_with_the_field_named(kind: str, value: str | None, field: str) -> None:
    with pytest.raises(ValueError, match=f"audience.{field}"):
        Audience(kind, value)


async def test_each_audience_selects_the_right_people_without_duplicates(harness: Harness) -> None:
    hangzhou = await add_citizens(harness, 3, first=81_000, region="330100")
    beijing = await add_citizens(harness, 2, first=82_000, region="110100")
    async with harness.services.database.unit_of_work() as uow:
        assert await count_audience(uow, Audience("everyone")) == 5
        assert await count_audience(uow, Audience("region", "33")) == 3
        assert await count_audience(uow, Audience("region", "110100")) == 2
        assert await count_audience(uow, Audience("colour", "red")) == 0
        chosen = Audience.from_ids([beijing[0], hangzhou[1], beijing[0], 99])  # 99: an admin who never registered
        assert await count_audience(uow, chosen) == 3
        twice = select(UserRow.telegram_id).union_all(select(UserRow.telegram_id))  # the caller's own query
        campaign_id = await start_campaign(uow, kind=REMINDER, created_by=0, payload=ReminderPayload(day=date(2026, 3, 2)),
                                           audience=Audience.from_select(twice), now=NOW)
        progress = await campaign_progress(uow, campaign_id)
        assert progress.total == 5 and progress.remaining == 5 and progress.status == "sending"
        statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
        assert sorted(statuses) == sorted(hangzhou + beijing)


async def test_a_campaign_with_nobody_is_done_at_once(harness: Harness) -> None:
    async with harness.services.database.unit_of_work() as uow:
        campaign_id = await start_campaign(uow, kind=BROADCAST_CAMPAIGN, created_by=1, payload=BroadcastPayload(text="x"),
                                           audience=Audience("colour", "red"), now=NOW)
        progress = await campaign_progress(uow, campaign_id)
        campaign = await uow.deliveries.campaign(campaign_id)
    assert progress.status == "done" and progress.total == 0
    rendered = harness.services.catalogue.render("en", progress_text(campaign, progress))
    assert rendered == f"Broadcast #{campaign_id} (notice) — Done\nsent 0 · failed 0 · blocked 0 · remaining 0 of 0"
