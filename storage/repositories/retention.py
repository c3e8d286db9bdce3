"""Deleting what has outlived its purpose. Deciding *which* declarations may go is the job's
(``bot.jobs.retention``); this module only finds candidates and deletes what it is told to."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Table, delete, select

from storage.models import Base, ConversationStateRow, CredentialRow, DeclarationRow
from storage.repositories.base import Repository, require_aware, rows_changed, table_of

_declarations = table_of(DeclarationRow)
_states = table_of(ConversationStateRow)
_credentials = table_of(CredentialRow)


class RetentionRepository(Repository):
    async def users_with_declarations_before(self, cutoff: date, after_user_id: int, limit: int) -> list[int]:
        """Ids of users holding a declaration older than ``cutoff``, ascending, after ``after_user_id``."""
        query = (
            select(_declarations.c.user_id)
            .where(_declarations.c.day < cutoff, _declarations.c.user_id > after_user_id)
            .group_by(_declarations.c.user_id)
            .order_by(_declarations.c.user_id)
            .limit(limit)
        )
        return list((await self._session.execute(query)).scalars())

    async def delete_declarations_before(self, user_id: int, day: date) -> int:
        """Delete the user's declarations (answers and temperatures with them) for days before ``day``."""
        result = await self._session.execute(
            delete(_declarations).where(_declarations.c.user_id == user_id, _declarations.c.day < day)
        )
        return rows_changed(result) or 0

    async def delete_idle_conversations(self, idle_since: datetime) -> int:
        """Half-finished flows untouched since ``idle_since``: their drafts may hold a typed ID number."""
        require_aware("idle_since", idle_since)
        result = await self._session.execute(delete(_states).where(_states.c.updated_at < idle_since))
        return rows_changed(result) or 0

    async def delete_credentials_expired_before(self, before: datetime) -> int:
        """Credentials long expired: no checkpoint accepts them, so their record serves nothing."""
        require_aware("before", before)
        result = await self._session.execute(delete(_credentials).where(_credentials.c.expires_at < before))
        return rows_changed(result) or 0

    async def delete_older_than(self, table_name: str, column_name: str, before: datetime | date) -> int | None:
        """Rows of ``table_name`` whose ``column_name`` is before ``before``; None when the table
        or the column does not exist in this schema (a feature that is not installed)."""
        table: Table | None = Base.metadata.tables.get(table_name)
        if table is None or column_name not in table.c:
            return None
        if isinstance(before, datetime):
            require_aware("before", before)
        result = await self._session.execute(delete(table).where(table.c[column_name] < before))
        return rows_changed(result) or 0
