"""What jobs and delivery renderers share: a Turn for a user nobody is talking to right now."""
from __future__ import annotations

from datetime import datetime

from bot.services.context import Actor, Services, Turn
from storage.records import UserProfile
from storage.unit_of_work import UnitOfWork

BATCH_SIZE = 200  # users per transaction in the sweeping jobs: bounded memory and lock time
SYSTEM = 0  # ``created_by`` of the campaigns jobs start: no person started them


def turn_for_user(services: Services, uow: UnitOfWork, user: UserProfile, now: datetime, language: str) -> Turn:
    """A Turn in the job's own unit of work, so the status-card use cases serve jobs unchanged."""
    return Turn.start(services, uow, Actor(telegram_id=user.telegram_id, chat_id=user.telegram_id), language, now,
                      user=user)
