"""Which privacy-notice versions each user accepted, and when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update

from storage.models import ConsentRow, UserRow
from storage.records import ConsentRecord, UserProfile
from storage.repositories.base import Repository, require_aware, table_of

_consents = table_of(ConsentRow)
_users = table_of(UserRow)


class ConsentRepository(Repository):
    async def history(self, user: UserProfile) -> list[ConsentRecord]:
        """Every accepted version, oldest first (registration's consent when there was no renewal)."""
        query = (
            select(_consents.c.version, _consents.c.accepted_at)
            .where(_consents.c.user_id == user.id)
            .order_by(_consents.c.accepted_at, _consents.c.id)
        )
        rows = (await self._session.execute(query)).all()
        if not rows:
            return [ConsentRecord(user.consent_version, user.consented_at)]
        return [ConsentRecord(row.version, row.accepted_at) for row in rows]

    async def accept(self, user: UserProfile, version: str, now: datetime) -> None:
        """Record acceptance of ``version`` and make it the user's current consent.

        The first renewal also copies registration's consent in, so the history stays whole.
        """
        require_aware("now", now)
        if not version or len(version) > 32:
            raise ValueError("version: must be 1-32 characters")
        has_history = select(exists().where(_consents.c.user_id == user.id))
        if not (await self._session.execute(has_history)).scalar_one():
            await self._add(user.id, user.consent_version, user.consented_at)
        if version == user.consent_version:
            return  # already the current consent: its original time stands
        await self._add(user.id, version, now)
        await self._session.execute(
            update(_users).where(_users.c.id == user.id).values(consent_version=version, consented_at=now)
        )

    async def _add(self, user_id: int, version: str, accepted_at: datetime) -> None:
        statement = self._upsert_insert(_consents).values(user_id=user_id, version=version, accepted_at=accepted_at)
        statement = statement.on_conflict_do_update(
            index_elements=[_consents.c.user_id, _consents.c.version],
            set_={"accepted_at": statement.excluded.accepted_at},
        )
        await self._session.execute(statement)
