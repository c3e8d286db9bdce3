"""Campaign kinds: each payload round-trips through the campaigns table; a payload of the wrong shape never starts."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

import bot.jobs  # noqa: F401 - declares the jobs' campaign kinds
import bot.services.administration  # noqa: F401 - declares the administrators' kinds
from bot.jobs.day_change import STATUS_NOTICE, DayPayload
from bot.jobs.reminders import REMINDER, ReminderPayload
from bot.services.administration.broadcasts import BROADCAST_CAMPAIGN, BroadcastPayload
from bot.services.administration.decisions import DECISION, DecisionPayload
from bot.services.delivery import Audience, CampaignKind, CampaignPayload, CampaignPayloadError, start_campaign
from bot.services.delivery.renderers import kind_named
from bot.services.org_requests import ORG_DECISION, ORG_REQUEST, OrganisationPayload
from bot.services.staff import ORG_NUDGE, NudgePayload
from tests.handlers.conftest import Harness, start_harness, stop_harness

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

# Every kind with a payload of the shape its features start it with, and the JSON stored before kinds were typed.
EXAMPLES: list[tuple[CampaignKind, CampaignPayload, dict]] = [
    (BROADCAST_CAMPAIGN, BroadcastPayload(text="Stay home", attachment_id=7), {"text": "Stay home", "attachment_id": 7}),
    (BROADCAST_CAMPAIGN, BroadcastPayload(text="Stay home"), {"text": "Stay home", "attachment_id": None}),
    (DECISION, DecisionPayload(decision_id=3), {"decision_id": 3}),
    (ORG_REQUEST, OrganisationPayload(organisation_id=12), {"organisation_id": 12}),
    (ORG_DECISION, OrganisationPayload(organisation_id=12), {"organisation_id": 12}),
    (ORG_NUDGE, NudgePayload(organisation_id=12, day=date(2026, 3, 2)), {"organisation_id": 12, "day": "2026-03-02"}),
    (REMINDER, ReminderPayload(day=date(2026, 3, 2)), {"day": "2026-03-02"}),
    (STATUS_NOTICE, DayPayload(day=date(2026, 3, 2)), {"day": "2026-03-02"}),
]


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    yield running
    await stop_harness(running)


def test_every_kind_of_the_product_is_covered() -> None:
    names = {"broadcast", "decision", "org_request", "org_decision", "org_nudge", "reminder", "status_notice"}
    assert {kind.name for kind, _, _ in EXAMPLES} == names
    assert all(kind_named(name) is not None for name in names)


@pytest.mark.parametrize(("kind", "payload", "stored"), EXAMPLES, ids=lambda v: getattr(v, "name", None))
async def test_every_kind_round_trips(harness: Harness, kind: CampaignKind, payload: CampaignPayload,
                                      stored: dict) -> None:
    async with harness.services.database.unit_of_work() as uow:
        campaign_id = await start_campaign(uow, kind=kind, payload=payload, created_by=1, now=NOW,
                                           audience=Audience.from_ids([], "nobody"))
    async with harness.services.database.unit_of_work() as uow:
        campaign = await uow.deliveries.campaign(campaign_id)
    assert campaign is not None and campaign.kind == kind.name
    assert campaign.payload == stored  # the same JSON as before kinds were typed: old rows keep loading
    assert kind.payload_of(campaign) == payload


async def test_rows_stored_before_kinds_were_typed_still_load(harness: Harness) -> None:
    # Broadcasts were once stored without attachment_id (the tests and the first version of the flow).
    async with harness.services.database.unit_of_work() as uow:
        campaign_id = await uow.deliveries.create_campaign(
            kind="broadcast", created_by=1, payload={"text": "hi"}, audience_kind="everyone", audience_value=None,
            rate=0.0, now=NOW, progress_chat_id=None)
        campaign = await uow.deliveries.campaign(campaign_id)
    assert campaign is not None
    assert BROADCAST_CAMPAIGN.payload_of(campaign) == BroadcastPayload(text="hi", attachment_id=None)


@pytest.mark.parametrize("wrong", [
    DecisionPayload(decision_id=3),  # another kind's payload
    BroadcastPayload.model_construct(text=None),  # built without validation
    BroadcastPayload.model_construct(text="hi", attachment_id="seven"),
])
async def test_a_payload_of_the_wrong_shape_is_refused_at_start(harness: Harness, wrong: CampaignPayload) -> None:
    async with harness.services.database.unit_of_work() as uow:
        with pytest.raises(CampaignPayloadError):
            await start_campaign(uow, kind=BROADCAST_CAMPAIGN, payload=wrong, created_by=1, now=NOW,  # type: ignore[arg-type]
                                 audience=Audience.from_ids([1], "one"))
        assert await uow.deliveries.campaigns(status="sending", limit=10) == []


def test_payloads_are_validated_when_built() -> None:
    with pytest.raises(ValueError):
        NudgePayload(organisation_id=12, day="not a day")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DecisionPayload(decision_id=3, extra=1)  # type: ignore[call-arg]


def test_a_stored_payload_of_the_wrong_shape_is_refused_when_read() -> None:
    from storage.records import Campaign
    campaign = Campaign(id=5, kind="reminder", created_by=0, created_at=NOW, payload={"day": "yesterday"},
                        audience_kind="list", audience_value=None, status="sending", rate=0.0, total=1)
    with pytest.raises(CampaignPayloadError):
        REMINDER.payload_of(campaign)


def test_two_kinds_of_one_name_are_refused() -> None:
    from bot.services.delivery import campaign_kind
    with pytest.raises(ValueError, match="reminder"):
        campaign_kind("reminder", ReminderPayload, REMINDER.render)
