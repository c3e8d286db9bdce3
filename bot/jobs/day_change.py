"""At each local day change: close yesterday's counts, re-evaluate every code, tell people what changed.

1. The anonymous counts of the day that just ended are recorded (``daily_counts``).
2. Every stored status evaluated for an earlier day is evaluated again for today, a batch of
   users per transaction, each user locked like an update of theirs would be. A change that
   matters (rules.status_change) is recorded as a notice and gets a fresh credential, which
   supersedes the earlier ones:

   * ``recovered``       a completed streak (or any cause) turned the code green;
   * ``missed_day``      a recovery streak was running and yesterday was not declared: it restarts;
   * ``decision_lifted`` a health-authority decision behind the colour expired;
   * ``policy_changed``  the colour changed and the status was evaluated under another policy
                         version than the stored one (the new policy applies from this day on);
   * ``colour_changed``  the colour changed for another reason (e.g. a new decision).

   Every stored status records the policy version it was evaluated under. A new policy file
   therefore never rewrites what was stored: a status keeps its version until it is evaluated
   again, here at the latest, under the policy in force.

3. The day's notices go to bulk delivery as one campaign (kind ``status_notice``); each message
   is rendered at send time with the person's current card.

Idempotent: a status already evaluated for today is skipped, a notice is recorded once per user
and day, and notices are marked handed over in the transaction that creates the campaign. A run
taken over after a crash therefore finishes the work without repeating any of it.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from bot.jobs.common import BATCH_SIZE, SYSTEM, turn_for_user
from bot.replies import Message, Reply, t
from bot.scheduler import JobContext
from bot.services import status_card
from bot.services.context import Services, language_of
from bot.services.delivery import Audience, CampaignPayload, campaign_kind, start_campaign
from rules.model import Status
from rules.status_change import EarlierStatus, classify_change
from storage.records import StoredStatus
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork


def change_kind(stored: StoredStatus | None, status: Status, today: date) -> str | None:
    """Which notice, if any, the move from the stored status to ``status`` deserves (rules.status_change)."""
    earlier = None if stored is None else EarlierStatus(stored.colour, stored.reason_code, stored.policy_version)
    change = classify_change(earlier, status, today)
    return None if change is None else change.value


async def run(context: JobContext) -> dict[str, int]:
    services, now = context.services, context.now
    today = context.today
    closed_day = context.due_at.astimezone(services.tz).date() - timedelta(days=1)
    async with services.database.unit_of_work() as uow:
        regions = await uow.daily_counts.record_day(closed_day, now)
    changes = await reevaluate_all(services, today, now)
    handed_over = await hand_over_notices(services, today, now)
    return {"count_rows": regions, **{f"notices_{kind}": n for kind, n in sorted(changes.items())},
            "handed_over": handed_over}


async def reevaluate_all(services: Services, today: date, now: datetime) -> Counter[str]:
    changes: Counter[str] = Counter()
    after = 0
    while True:
        async with services.database.unit_of_work() as uow:
            batch = await uow.status_sweep.users_to_reevaluate(today, after, BATCH_SIZE)
            for user_id in batch:
                kind = await _reevaluate(services, uow, user_id, now)
                changes[kind or "none"] += 1
        if len(batch) < BATCH_SIZE:
            return changes
        after = batch[-1]


async def _reevaluate(services: Services, uow: UnitOfWork, user_id: int, now: datetime) -> str | None:
    user = await uow.users.get(user_id)
    if user is None:
        return None
    await uow.lock_user(user.telegram_id)
    stored = await uow.statuses.get(user_id)
    today = now.astimezone(services.tz).date()
    if stored is not None and stored.evaluated_for >= today:
        return None  # evaluated meanwhile (the person declared, or a run taken over did it)
    # Only a change worth a notice gets a fresh credential (superseding the ones issued before).
    outcome = await status_card.refresh_code(services, uow, user, today, now,
                                             card_if=lambda status: change_kind(stored, status, today) is not None)
    if outcome.status is None:
        await uow.status_sweep.drop(user_id)  # every declaration behind it was retired
        return None
    kind = change_kind(stored, outcome.status, today)
    if kind is not None:
        await uow.notices.add(user_id, today, kind, outcome.status.days_left, now)
    return kind


async def hand_over_notices(services: Services, day: date, now: datetime) -> int:
    """Give the day's unsent notices to bulk delivery as one campaign; return how many."""
    async with services.database.unit_of_work() as uow:
        notices = uow.notices
        waiting = await notices.count_unsent(day)
        if waiting == 0:
            return 0
        campaign_id = await start_campaign(
            uow, kind=STATUS_NOTICE, created_by=SYSTEM, payload=DayPayload(day=day),
            audience=Audience.from_select(notices.unsent_recipients(day)), now=now,
        )
        await notices.mark_handed_over(day, campaign_id)
    return waiting


class DayPayload(CampaignPayload):
    """The day whose notices the campaign sends."""

    day: date


async def render_notice(services: Services, campaign: Campaign, payload: DayPayload, delivery: DeliveryRecord,
                        uow: UnitOfWork) -> Reply | None:
    """One message when delivery sends it: the current card, its caption led by what changed."""
    user = await uow.users.get_by_telegram_id(delivery.telegram_id)
    if user is None or not user.active:
        return None
    day = payload.day
    notice = await uow.notices.for_user(user.id, day)
    if notice is None:
        return None
    await uow.lock_user(user.telegram_id)
    language = await language_of(services, uow, user.telegram_id)
    turn = turn_for_user(services, uow, user, services.clock.now(), language)
    what = t(f"notices.{notice.kind}", days=notice.days_left or 0, day=day, version=services.policy.version,
             name=services.policy.name)
    # The card the job issued, unless the code changed again since.
    outcome = await status_card.refresh_code(services, uow, user, turn.today, turn.now)
    if outcome.card is None:
        return turn.reply.say(what)
    card = outcome.card
    turn.reply.messages.append(Message(parts=(what, *card.caption), buttons=status_card.card_buttons(services), card=card))
    return turn.reply


STATUS_NOTICE = campaign_kind("status_notice", DayPayload, render_notice)
