"""Telegram update ids already handled, so a redelivered webhook is processed once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.models import LastUpdateRow, ProcessedUpdateRow
from storage.records import Claim
from storage.repositories.base import Repository, require_aware, table_of

_updates = table_of(ProcessedUpdateRow)
_last = table_of(LastUpdateRow)



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

    async def claim(self, update_id: int, telegram_id: int, now: datetime) -> Claim:
        """Claim the update inside the unit of work that handles it, after the person's lock.

        ``INSERT … ON CONFLICT DO NOTHING RETURNING``: the claim commits with the update's own
        writes or rolls back with them.  On PostgreSQL a second delivery racing this one waits on the
        uncommitted row and then sees it (DUPLICATE) or, after a rollback, claims it itself.
        Then the person's newest handled update id moves forward, or the update is SUPERSEDED: a
        later one of theirs ran already, and running this one now would reorder their steps.
        """
        if not await self.mark_processed(update_id, now):
            return Claim.DUPLICATE
        advance = (
            self._upsert_insert(_last)
            .values(telegram_id=telegram_id, update_id=update_id, handled_at=now)
        )
        newer_only = advance.on_conflict_do_update(
            index_elements=[_last.c.telegram_id],
            set_={"update_id": advance.excluded.update_id, "handled_at": advance.excluded.handled_at},
            # Equal: this very update again, after its claim was released (its replies did not reach Telegram).
            where=_last.c.update_id <= advance.excluded.update_id,
        ).returning(_last.c.telegram_id)
        return Claim.FIRST if (await self._session.execute(newer_only)).first() is not None else Claim.SUPERSEDED

    async def release(self, update_id: int) -> None:
        """Undo a committed claim whose replies Telegram did not take, so the redelivery runs again."""
        await self._session.execute(delete(_updates).where(_updates.c.update_id == update_id))

    async def is_processed(self, update_id: int) -> bool:
        query = select(_updates.c.update_id).where(_updates.c.update_id == update_id)
        return (await self._session.execute(query)).first() is not None
