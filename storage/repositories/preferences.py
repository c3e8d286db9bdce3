"""Per-Telegram-account preferences; usable before registration."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from storage.models import PreferenceRow
from storage.repositories.base import Repository, require_aware, table_of

_preferences = table_of(PreferenceRow)
# Built once: read for every bulk message sent (each recipient's language), and building costs more than running.
_LANGUAGE = select(_preferences.c.language).where(_preferences.c.telegram_id == bindparam("b_telegram_id"))


class PreferenceRepository(Repository):
    async def get_language(self, telegram_id: int) -> str | None:
        """The language this account chose, if any (bot.services.context.language_of decides the fallback)."""
        return (await self._session.execute(_LANGUAGE, {"b_telegram_id": telegram_id})).scalar_one_or_none()

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
