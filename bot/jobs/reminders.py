"""Daily reminders: at each person's chosen local time (default ``HEALTHCODE_REMINDER_TIME``),
everyone who has not declared today gets one, through bulk delivery (kind ``reminder``).

Each minute the job marks, in one set-based statement, the people now due (reminders on, their
time reached, nothing declared today, not yet reminded today) with a fresh batch id, and starts
one campaign whose audience is that batch, in the same transaction. A run taken over after a
crash finds nobody left to mark. The message itself is rendered at send time, so someone who
declared in the meantime is skipped, and yellow and red codes are told how many normal days remain.
"""
from __future__ import annotations

import secrets
from datetime import date

from bot.jobs.common import SYSTEM, turn_for_user
from bot.replies import Button, Reply, Text, button, t
from bot.services.checkin import EVERYONE, RepeatYesterday
from bot.services.common_buttons import ShowReminders, StartCheckin
from bot.scheduler import JobContext
from bot.services import household, status_card
from bot.services.context import Services, Turn, language_of
from bot.services.delivery import Audience, CampaignPayload, campaign_kind, start_campaign
from rules.model import Colour, Status
from storage.records import Campaign, DeliveryRecord
from storage.repositories.reminders import ReminderRepository
from storage.unit_of_work import UnitOfWork


async def run(context: JobContext) -> dict[str, int]:
    services, now = context.services, context.now
    local = now.astimezone(services.tz)
    batch = secrets.token_hex(8)
    async with services.database.unit_of_work() as uow:
        marked = await uow.reminders.mark_due(
            today=local.date(), local_time=f"{local:%H:%M}", default_time=services.settings.reminder_time,
            batch=batch, now=now,
        )
        if marked:
            await start_campaign(
                uow, kind=REMINDER, created_by=SYSTEM, payload=ReminderPayload(day=local.date()),
                audience=Audience.from_select(ReminderRepository.batch_recipients(batch)), now=now,
            )
    return {"reminded": marked}


class ReminderPayload(CampaignPayload):
    """The day the reminded have not declared."""

    day: date


async def render_reminder(services: Services, campaign: Campaign, payload: ReminderPayload,
                          delivery: DeliveryRecord, uow: UnitOfWork) -> Reply | None:
    """The reminder as the person sees it; None (skip) if they declared meanwhile or opted out."""
    user = await uow.users.get_by_telegram_id(delivery.telegram_id)
    if user is None or not user.active:
        return None
    day = payload.day
    if await uow.declarations.last_day(user.id) == day:
        return None
    if not (await uow.reminders.get(user.id)).enabled:
        return None
    language = await language_of(services, uow, user.telegram_id)
    turn = turn_for_user(services, uow, user, services.clock.now(), language)
    if turn.today != day:
        return None  # delivered so late that the day is over: a reminder for it would mislead
    parts = [t("reminders.reminder", day=day)]
    status = await status_card.current_status(turn)
    if status is not None and status.colour is not Colour.GREEN:
        parts.append(days_left_text(status))
    rows: tuple[tuple[Button, ...], ...] = ((button("button.checkin", StartCheckin()),
                                             button("reminders.button_settings", ShowReminders())),)
    same = await _one_tap(turn)
    if same is not None:  # yesterday entirely normal, for everyone they declare for: one press declares
        rows = ((same,), *rows)
    turn.reply.say(*parts, buttons=rows)
    return turn.reply


async def _one_tap(turn: Turn) -> Button | None:
    everyone = await household.everyone_repeatable(turn)
    if not everyone:
        return None
    key = "checkin.button_everyone_same" if len(await household.people(turn)) > 1 else "reminders.button_same"
    return button(key, RepeatYesterday(EVERYONE, turn.today.toordinal()))


REMINDER = campaign_kind("reminder", ReminderPayload, render_reminder)


def days_left_text(status: Status) -> Text:
    """What is left before a yellow or red code turns green: the evaluation's own count
    (``Status.days_left``), and under a decision also its end and the card's green-on day."""
    colour = t(f"colour.{status.colour.value}")
    if status.decision_until is None:
        return t("reminders.days_left", colour=colour, days=status.days_left)
    if status.days_left:
        return t("reminders.decision_days_left", colour=colour, until=status.decision_until, days=status.days_left,
                 green_on=status.green_on)
    return t("reminders.decision_until", colour=colour, until=status.decision_until, green_on=status.green_on)
