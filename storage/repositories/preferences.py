"""Per-Telegram-account preferences; usable before registration."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import PreferenceRow
from storage.repositories.base import Repository, require_aware, table_of

_preferences = table_of(PreferenceRow)


class PreferenceRepository(Repository):
    async def get_language(self, telegram_id: int) -> str | None:
        query = select(_preferences.c.language).where(_preferences.c.telegram_id == telegram_id)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def set_language(self, telegram_id: int, language: str, now: datetime) -> None:
        require_aware("now", now)
        statement = self._upsert_insert(_preferences).values(
            telegram_id=telegram_id, language=language, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_preferences.c.telegram_id],
            set_={"language": statement.excluded.language, "updated_at": statement.excluded.updated_at},
        )
        await self._session.execute(statement)
