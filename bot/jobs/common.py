"""What jobs and delivery renderers share: a Turn for a user nobody is talking to right now."""
from __future__ import annotations

from datetime import datetime

from bot.i18n import LANGUAGES
from bot.replies import Reply
from bot.services.context import Actor, Services, Turn
from storage.records import UserProfile
from storage.unit_of_work import UnitOfWork

BATCH_SIZE = 200  # users per transaction in the sweeping jobs: bounded memory and lock time
SYSTEM = 0  # ``created_by`` of the campaigns jobs start: no person started them


async def language_of(services: Services, uow: UnitOfWork, telegram_id: int) -> str:
    chosen = await uow.preferences.get_language(telegram_id)
    return chosen if chosen in LANGUAGES else services.settings.default_language


def turn_for_user(services: Services, uow: UnitOfWork, user: UserProfile, now: datetime, language: str) -> Turn:
    """A Turn in the job's own unit of work, so the status-card use cases serve jobs unchanged."""
    return Turn(
        services=services,
        uow=uow,
        actor=Actor(telegram_id=user.telegram_id, chat_id=user.telegram_id),
        language=language,
        state=None,
        user=user,
        now=now,
        today=now.astimezone(services.tz).date(),
        reply=Reply(language),
    )
