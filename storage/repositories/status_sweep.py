"""The day-change job's walk over stored statuses, in id order, a batch at a time."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from storage.models import StatusRow
from storage.repositories.base import Repository, rows_changed, table_of

_statuses = table_of(StatusRow)


class StatusSweepRepository(Repository):
    async def users_to_reevaluate(self, today: date, after_user_id: int, limit: int) -> list[int]:
        """Users whose stored status was evaluated for a day before ``today``, ascending by id."""
        query = (
            select(_statuses.c.user_id)
            .where(_statuses.c.evaluated_for < today, _statuses.c.user_id > after_user_id)
            .order_by(_statuses.c.user_id)
            .limit(limit)
        )
        return list((await self._session.execute(query)).scalars())

    async def drop(self, user_id: int) -> bool:
        """Forget a stored status that no longer has any declaration behind it."""
        result = await self._session.execute(delete(_statuses).where(_statuses.c.user_id == user_id))
        return bool(rows_changed(result))
