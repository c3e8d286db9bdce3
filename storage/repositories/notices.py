"""Status changes the day-change job found, waiting for (or handed to) bulk delivery."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, delete, select, update

from storage.models import StatusNoticeRow, UserRow
from storage.records import NoticeRecord
from storage.repositories.base import Repository, require_aware, rows_changed, table_of

_notices = table_of(StatusNoticeRow)
_users = table_of(UserRow)
KINDS = frozenset({"recovered", "missed_day", "decision_lifted", "policy_changed", "colour_changed"})


class StatusNoticeRepository(Repository):
    async def add(self, user_id: int, day: date, kind: str, days_left: int | None, now: datetime) -> bool:
        """Record the day's notice for the user; False if one was already recorded for that day."""
        require_aware("now", now)
        if kind not in KINDS:
            raise ValueError(f"kind: must be one of {sorted(KINDS)}, got {kind!r}")
        statement = (
            self._upsert_insert(_notices)
            .values(user_id=user_id, day=day, kind=kind, days_left=days_left, created_at=now)
            .on_conflict_do_nothing(index_elements=[_notices.c.user_id, _notices.c.day])
            .returning(_notices.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    @staticmethod
    def unsent_recipients(day: date) -> Select[int]:
        """Telegram ids with a notice for ``day`` not yet handed to delivery."""
        return (
            select(_users.c.telegram_id)
            .select_from(_users.join(_notices, _notices.c.user_id == _users.c.id))
            .where(_notices.c.day == day, _notices.c.campaign_id.is_(None))
        )

    async def count_unsent(self, day: date) -> int:
        from sqlalchemy import func

        query = select(func.count()).where(_notices.c.day == day, _notices.c.campaign_id.is_(None))
        return (await self._session.execute(query)).scalar_one()

    async def mark_handed_over(self, day: date, campaign_id: int) -> int:
        result = await self._session.execute(
            update(_notices).where(_notices.c.day == day, _notices.c.campaign_id.is_(None)).values(campaign_id=campaign_id)
        )
        return rows_changed(result) or 0

    async def for_user(self, user_id: int, day: date) -> NoticeRecord | None:
        query = select(_notices).where(_notices.c.user_id == user_id, _notices.c.day == day)
        row = (await self._session.execute(query)).first()
        return None if row is None else NoticeRecord(row.day, row.kind, row.days_left, row.created_at, row.campaign_id)

    async def list_for_user(self, user_id: int) -> list[NoticeRecord]:
        query = select(_notices).where(_notices.c.user_id == user_id).order_by(_notices.c.day)
        return [
            NoticeRecord(row.day, row.kind, row.days_left, row.created_at, row.campaign_id)
            for row in (await self._session.execute(query)).all()
        ]

    async def delete_before(self, day: date) -> int:
        result = await self._session.execute(delete(_notices).where(_notices.c.day < day))
        return rows_changed(result) or 0
