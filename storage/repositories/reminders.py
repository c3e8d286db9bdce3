"""Reminder choices, and the set-based selection of who gets today's reminder.

Everything is done in SQL over the whole user table (never a Python list of everyone): one
INSERT … SELECT … ON CONFLICT marks the users due now with the run's batch id, and the batch's
Telegram ids are then handed to bulk delivery as a SELECT.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Select, and_, func, literal, null, or_, select, true

from storage.models import ReminderSettingRow, UserRow
from storage.records import ReminderChoice
from storage.repositories.base import Repository, require_aware, rows_changed, table_of
from storage.repositories.declarations import DeclarationRepository

_settings = table_of(ReminderSettingRow)
_users = table_of(UserRow)
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def require_clock_time(field: str, value: str) -> None:
    if not isinstance(value, str) or not _CLOCK_TIME.fullmatch(value):
        raise ValueError(f"{field}: must be a 24-hour local time HH:MM, such as 08:00")


class ReminderRepository(Repository):
    async def get(self, user_id: int) -> ReminderChoice:
        query = select(_settings.c.enabled, _settings.c.remind_at).where(_settings.c.user_id == user_id)
        row = (await self._session.execute(query)).first()
        return ReminderChoice() if row is None else ReminderChoice(bool(row.enabled), row.remind_at)

    async def set(self, user_id: int, choice: ReminderChoice, now: datetime) -> None:
        require_aware("now", now)
        if choice.remind_at is not None:
            require_clock_time("remind_at", choice.remind_at)
        statement = self._upsert_insert(_settings).values(
            user_id=user_id, enabled=choice.enabled, remind_at=choice.remind_at, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_settings.c.user_id],
            set_={"enabled": choice.enabled, "remind_at": choice.remind_at, "updated_at": now},
        )
        await self._session.execute(statement)

    async def mark_due(self, *, today: date, local_time: str, default_time: str, batch: str, now: datetime) -> int:
        """Mark every user due a reminder now with ``batch``; return how many.

        Due: registered and active, reminders on, their time (or the default) not after
        ``local_time``, no declaration for ``today``, and not yet reminded ``today``.
        """
        require_clock_time("local_time", local_time)
        require_clock_time("default_time", default_time)
        require_aware("now", now)
        declared = DeclarationRepository.has_declared_on(_users.c.id, today)
        due = (
            select(
                _users.c.id,
                literal(True).label("enabled"),
                null().label("remind_at"),
                literal(today).label("last_reminded_on"),
                literal(batch).label("last_batch"),
                literal(now, _settings.c.updated_at.type).label("updated_at"),
            )
            .select_from(_users.outerjoin(_settings, _settings.c.user_id == _users.c.id))
            .where(
                _users.c.active.is_(true()),
                ~declared,
                or_(_settings.c.enabled.is_(None), _settings.c.enabled.is_(true())),
                func.coalesce(_settings.c.remind_at, default_time) <= local_time,
                or_(_settings.c.last_reminded_on.is_(None), _settings.c.last_reminded_on < today),
            )
        )
        insert = self._upsert_insert(_settings).from_select(
            ["user_id", "enabled", "remind_at", "last_reminded_on", "last_batch", "updated_at"], due
        )
        # An existing row keeps the person's choice; only the reminder bookkeeping changes.
        insert = insert.on_conflict_do_update(
            index_elements=[_settings.c.user_id],
            set_={"last_reminded_on": insert.excluded.last_reminded_on, "last_batch": insert.excluded.last_batch},
        )
        result = await self._session.execute(insert)
        return max(rows_changed(result) or 0, 0)

    @staticmethod
    def batch_recipients(batch: str) -> Select[int]:
        """The Telegram ids marked by one ``mark_due`` run, as a SELECT for bulk delivery."""
        return (
            select(_users.c.telegram_id)
            .select_from(_users.join(_settings, and_(_settings.c.user_id == _users.c.id, _settings.c.last_batch == batch)))
        )
