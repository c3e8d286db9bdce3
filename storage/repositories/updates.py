"""Telegram update ids already handled, so a redelivered webhook is processed once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.models import ProcessedUpdateRow
from storage.repositories.base import Repository, require_aware, table_of

_updates = table_of(ProcessedUpdateRow)


class ProcessedUpdateRepository(Repository):
    async def mark_processed(self, update_id: int, now: datetime) -> bool:
        """Record the update; False if it had already been recorded."""
        require_aware("now", now)
        statement = (
            self._upsert_insert(_updates)
            .values(update_id=update_id, processed_at=now)
            .on_conflict_do_nothing(index_elements=[_updates.c.update_id])
            .returning(_updates.c.update_id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def claim(self, update_id: int, now: datetime) -> bool:
        """Claim the update inside the unit of work that handles it: True if this one is the first.

        One ``INSERT … ON CONFLICT DO NOTHING RETURNING``: the claim commits with the update's own
        writes or rolls back with them.  On PostgreSQL a second delivery racing this one waits on the
        uncommitted row and then sees it (False) or, after a rollback, claims it itself.
        """
        return await self.mark_processed(update_id, now)

    async def release(self, update_id: int) -> None:
        """Undo a committed claim whose replies Telegram did not take, so the redelivery runs again."""
        await self._session.execute(delete(_updates).where(_updates.c.update_id == update_id))

    async def is_processed(self, update_id: int) -> bool:
        query = select(_updates.c.update_id).where(_updates.c.update_id == update_id)
        return (await self._session.execute(query)).first() is not None
