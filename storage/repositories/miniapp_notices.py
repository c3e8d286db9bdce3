"""Mini App notices: one waiting row per person, handed to bulk delivery in bulk.

A declaration queues (``queue``: one statement, in the declaration's own transaction, so a notice is
never lost); a hand-over takes what waits for a day (``take``: marks those rows with its batch), starts a
campaign whose audience is ``taken(batch)``, then ``forget(batch)`` deletes exactly those rows, all in
one transaction. Rows queued meanwhile carry no batch and wait for the next hand-over, and a row is
never handed over twice: its batch and its deletion commit together with the campaign's recipients.
On PostgreSQL the marking UPDATE locks the rows it takes, so a declaration re-queuing one of them
waits for the hand-over and then queues a fresh row.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import MiniAppNoticeRow, UserRow
from storage.models.base import UTCDateTime
from storage.repositories.base import Repository, require_aware, rows_changed, table_of

_notices = table_of(MiniAppNoticeRow)
_users = table_of(UserRow)


def _queue_statement(dialect: str) -> postgresql.Insert | sqlite.Insert:
    insert = postgresql.insert(_notices) if dialect == "postgresql" else sqlite.insert(_notices)
    statement = insert.values(user_id=bindparam("b_user"), day=bindparam("b_day"),
                              queued_at=bindparam("b_now", type_=UTCDateTime()), batch=None)
    # Waiting already: the same notice covers this declaration too (its card is drawn at send time),
    # now for the latest day declared.
    return statement.on_conflict_do_update(
        index_elements=[_notices.c.user_id],
        set_={"day": statement.excluded.day, "queued_at": statement.excluded.queued_at, "batch": None},
    )


# Built once per dialect: a declaration runs it, and building costs more than running it.
_QUEUE = {dialect: _queue_statement(dialect) for dialect in ("postgresql", "sqlite")}


class MiniAppNoticeRepository(Repository):
    async def queue(self, user_id: int, day: date, now: datetime) -> None:
        """The person declared ``day`` in the Mini App: their chat is to be told (once, by the next hand-over)."""
        require_aware("now", now)
        await self._session.execute(_QUEUE[self._dialect], {"b_user": user_id, "b_day": day, "b_now": now})

    async def waiting_days(self) -> list[date]:
        """The days declared by the rows waiting, oldest first (usually one; two around midnight)."""
        query = select(_notices.c.day).where(_notices.c.batch.is_(None)).group_by(_notices.c.day).order_by(_notices.c.day)
        return list((await self._session.execute(query)).scalars())

    async def take(self, day: date) -> tuple[int, int]:
        """Mark the rows waiting for ``day`` as this hand-over's: (its batch, how many)."""
        batch = secrets.randbits(62) + 1
        statement = update(_notices).where(_notices.c.day == day, _notices.c.batch.is_(None)).values(batch=batch)
        return batch, rows_changed(await self._session.execute(statement)) or 0

    @staticmethod
    def taken(batch: int) -> Select[int]:
        """The Telegram ids of the people whose rows ``batch`` took: the campaign's audience."""
        return (select(_users.c.telegram_id)
                .select_from(_users.join(_notices, _notices.c.user_id == _users.c.id))
                .where(_notices.c.batch == batch))

    async def forget(self, batch: int) -> int:
        """Delete the rows ``batch`` took (handed over in this transaction); how many."""
        return rows_changed(await self._session.execute(delete(_notices).where(_notices.c.batch == batch))) or 0

    async def count_waiting(self) -> int:
        """How many people wait for a notice (the bench and the tests check it)."""
        return (await self._session.execute(select(func.count()).select_from(_notices))).scalar_one()


__all__ = ["MiniAppNoticeRepository"]
