"""The bot processes' shares of the outgoing Telegram rate (``sender_shares``; protocol in bot/rate_share.py).

A renewal is one transaction: :meth:`SenderShareRepository.open` takes the transaction-level advisory
lock that serialises every renewal of every process, reads the database's clock (one clock for all
hosts), forgets processes not seen for a while and returns the live rows; :meth:`record` writes this
process's row before the commit. On SQLite (one process) BEGIN IMMEDIATE already serialises.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import RowMapping, delete, select, text

from storage.models import SenderShareRow
from storage.records import SenderShare, SenderShareView
from storage.repositories.base import Repository, require_aware, table_of

_shares = table_of(SenderShareRow)
# PostgreSQL advisory lock (two-int form, "hc" namespace; 1 is migrations, 2 the bulk sender).
_RENEWAL_LOCK = text("SELECT pg_advisory_xact_lock(26723, 3)")
_PG_NOW = text("SELECT clock_timestamp()")  # the time now, after the lock: not the transaction's start
_SQLITE_NOW = text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")


class SenderShareRepository(Repository):
    async def open(self, process_id: str, *, forget_after: timedelta) -> SenderShareView:
        """Lock, read the database's time, delete the rows (not this one) unseen for ``forget_after``."""
        if forget_after <= timedelta(0):
            raise ValueError("forget_after: must be positive")
        now = await self._lock_and_read_clock()
        await self._session.execute(
            delete(_shares).where(_shares.c.seen_at < now - forget_after, _shares.c.process_id != process_id)
        )
        rows = [_record(row) for row in (await self._session.execute(select(_shares))).mappings()]
        mine = next((row for row in rows if row.process_id == process_id), None)
        others = tuple(sorted((row for row in rows if row.process_id != process_id), key=lambda r: r.process_id))
        return SenderShareView(now, mine, others)

    async def record(self, process_id: str, *, now: datetime, valid_until: datetime, share: int, holds: int,
                     paused_until: datetime | None) -> None:
        """This process's row as of this renewal (inserted on its first)."""
        for field, value in (("now", now), ("valid_until", valid_until), ("paused_until", paused_until)):
            require_aware(field, value)
        if share < 0 or holds < share:
            raise ValueError(f"share {share}, holds {holds}: need 0 <= share <= holds")
        values = {"seen_at": now, "valid_until": valid_until, "share": share, "holds": holds,
                  "paused_until": paused_until}
        statement = self._upsert_insert(_shares).values(process_id=process_id, **values)
        await self._session.execute(
            statement.on_conflict_do_update(index_elements=[_shares.c.process_id], set_=values)
        )

    async def leave(self, process_id: str) -> None:
        await self._session.execute(delete(_shares).where(_shares.c.process_id == process_id))

    async def every(self) -> list[SenderShare]:
        rows = (await self._session.execute(select(_shares).order_by(_shares.c.process_id))).mappings()
        return [_record(row) for row in rows]

    async def _lock_and_read_clock(self) -> datetime:
        if self._dialect == "postgresql":
            await self._session.execute(_RENEWAL_LOCK)
            now: datetime = (await self._session.execute(_PG_NOW)).scalar_one()
            return now.astimezone(timezone.utc)
        stamp = (await self._session.execute(_SQLITE_NOW)).scalar_one()
        return datetime.fromisoformat(str(stamp)).replace(tzinfo=timezone.utc)


def _record(row: RowMapping) -> SenderShare:
    return SenderShare(
        process_id=row["process_id"], seen_at=row["seen_at"], valid_until=row["valid_until"],
        share=row["share"], holds=row["holds"], paused_until=row["paused_until"],
    )


__all__ = ["SenderShareRepository"]
