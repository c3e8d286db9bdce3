"""Correction deadlines: requests open longer than ``HEALTHCODE_CORRECTION_SLA_HOURS`` remind every
reviewer in scope; those open twice as long go up to the next scope's reviewers.

Each reminder and each escalation happens once per request (``reminded_at`` / ``escalated_at`` are set
in the transaction that starts the notice's campaign), so a run taken over after a crash, or the next
run, sends nothing twice. "In scope" is what ``roles.holders_covering`` returns for the person's region,
nearest level first; the next level is the nearest scope strictly containing the first
(``rules.corrections.next_level``). With nobody above (the first level is the root), the escalation
goes to the first level again, marked as overdue twice over.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.jobs.common import SYSTEM
from bot.regions import region_table
from bot.replies import Reply, t
from bot.scheduler import JobContext
from bot.services.context import Services, language_of
from bot.services.corrections import RequestNotice, notify_reviewers, review_button, reviewers_for
from bot.services.delivery import campaign_kind
from rules.corrections import Overdue, first_level, next_level, overdue
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork

async def run(context: JobContext) -> dict[str, int]:
    services, now = context.services, context.now
    sla = timedelta(hours=services.settings.correction_sla_hours)
    reminded = escalated = 0
    table = region_table()
    async with services.database.unit_of_work() as uow:
        for request in await uow.corrections.open_requests(filed_before=now - sla):
            late = overdue(request.filed_at, now, sla)
            holders = await reviewers_for(services, uow, request.region_code)
            if late is Overdue.ESCALATE and request.escalated_at is None:
                above = next_level(holders, table)
                targets = above or first_level(holders)
                notice = RequestNotice(request_id=request.id, hours=_hours_open(request.filed_at, now),
                                       escalated=True, above=bool(above))
                await notify_reviewers(uow, [h.telegram_id for h in targets], kind=OVERDUE_KIND, payload=notice,
                                       by=SYSTEM, now=now)
                await uow.corrections.mark([request.id], reminded=request.reminded_at or now, escalated=now)
                escalated += 1
            elif request.reminded_at is None:
                notice = RequestNotice(request_id=request.id, hours=_hours_open(request.filed_at, now))
                await notify_reviewers(uow, [h.telegram_id for h in first_level(holders)], kind=OVERDUE_KIND,
                                       payload=notice, by=SYSTEM, now=now)
                await uow.corrections.mark([request.id], reminded=now)
                reminded += 1
    return {"reminded": reminded, "escalated": escalated}


def _hours_open(filed_at: datetime, now: datetime) -> int:
    return int((now - filed_at) / timedelta(hours=1))


async def render_overdue(services: Services, campaign: Campaign, payload: RequestNotice, recipient: DeliveryRecord,
                         uow: UnitOfWork) -> Reply | None:
    request = await uow.corrections.get(payload.request_id)
    if request is None or not request.state.open:
        return None  # decided (or erased) since
    key = "correction.overdue"
    if payload.escalated:
        key = "correction.escalated" if payload.above else "correction.overdue_twice"
    reply = Reply(await language_of(services, uow, recipient.telegram_id))
    return reply.say(t(key, id=request.id, hours=payload.hours,
                       sla=services.settings.correction_sla_hours), buttons=review_button(request.id))


OVERDUE_KIND = campaign_kind("correction_overdue", RequestNotice, render_overdue)
