"""Telegram update ids already handled, so a redelivered webhook is processed once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

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

    async def is_processed(self, update_id: int) -> bool:
        query = select(_updates.c.update_id).where(_updates.c.update_id == update_id)
        return (await self._session.execute(query)).first() is not None
